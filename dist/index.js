import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({

/***/ 890:
/***/ ((module, __unused_webpack___webpack_exports__, __nccwpck_require__) => {

__nccwpck_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
/* harmony import */ var _main_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(742);

await (0,_main_js__WEBPACK_IMPORTED_MODULE_0__/* .run */ .e)();

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ }),

/***/ 742:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {


// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  e: () => (/* binding */ run)
});

;// CONCATENATED MODULE: external "os"
const external_os_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("os");
;// CONCATENATED MODULE: ../../work/main/node_modules/@actions/core/lib/utils.js
// We use any as a valid input type
/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Sanitizes an input into a string so it can be passed into issueCommand safely
 * @param input input to sanitize into a string
 */
function utils_toCommandValue(input) {
    if (input === null || input === undefined) {
        return '';
    }
    else if (typeof input === 'string' || input instanceof String) {
        return input;
    }
    return JSON.stringify(input);
}
/**
 *
 * @param annotationProperties
 * @returns The command properties to send with the actual annotation command
 * See IssueCommandProperties: https://github.com/actions/runner/blob/main/src/Runner.Worker/ActionCommandManager.cs#L646
 */
function utils_toCommandProperties(annotationProperties) {
    if (!Object.keys(annotationProperties).length) {
        return {};
    }
    return {
        title: annotationProperties.title,
        file: annotationProperties.file,
        line: annotationProperties.startLine,
        endLine: annotationProperties.endLine,
        col: annotationProperties.startColumn,
        endColumn: annotationProperties.endColumn
    };
}
//# sourceMappingURL=utils.js.map
;// CONCATENATED MODULE: ../../work/main/node_modules/@actions/core/lib/command.js


/**
 * Issues a command to the GitHub Actions runner
 *
 * @param command - The command name to issue
 * @param properties - Additional properties for the command (key-value pairs)
 * @param message - The message to include with the command
 * @remarks
 * This function outputs a specially formatted string to stdout that the Actions
 * runner interprets as a command. These commands can control workflow behavior,
 * set outputs, create annotations, mask values, and more.
 *
 * Command Format:
 *   ::name key=value,key=value::message
 *
 * @example
 * ```typescript
 * // Issue a warning annotation
 * issueCommand('warning', {}, 'This is a warning message');
 * // Output: ::warning::This is a warning message
 *
 * // Set an environment variable
 * issueCommand('set-env', { name: 'MY_VAR' }, 'some value');
 * // Output: ::set-env name=MY_VAR::some value
 *
 * // Add a secret mask
 * issueCommand('add-mask', {}, 'secretValue123');
 * // Output: ::add-mask::secretValue123
 * ```
 *
 * @internal
 * This is an internal utility function that powers the public API functions
 * such as setSecret, warning, error, and exportVariable.
 */
function command_issueCommand(command, properties, message) {
    const cmd = new Command(command, properties, message);
    process.stdout.write(cmd.toString() + external_os_namespaceObject.EOL);
}
function command_issue(name, message = '') {
    command_issueCommand(name, {}, message);
}
const CMD_STRING = '::';
class Command {
    constructor(command, properties, message) {
        if (!command) {
            command = 'missing.command';
        }
        this.command = command;
        this.properties = properties;
        this.message = message;
    }
    toString() {
        let cmdStr = CMD_STRING + this.command;
        if (this.properties && Object.keys(this.properties).length > 0) {
            cmdStr += ' ';
            let first = true;
            for (const key in this.properties) {
                if (this.properties.hasOwnProperty(key)) {
                    const val = this.properties[key];
                    if (val) {
                        if (first) {
                            first = false;
                        }
                        else {
                            cmdStr += ',';
                        }
                        cmdStr += `${key}=${escapeProperty(val)}`;
                    }
                }
            }
        }
        cmdStr += `${CMD_STRING}${escapeData(this.message)}`;
        return cmdStr;
    }
}
function escapeData(s) {
    return utils_toCommandValue(s)
        .replace(/%/g, '%25')
        .replace(/\r/g, '%0D')
        .replace(/\n/g, '%0A');
}
function escapeProperty(s) {
    return utils_toCommandValue(s)
        .replace(/%/g, '%25')
        .replace(/\r/g, '%0D')
        .replace(/\n/g, '%0A')
        .replace(/:/g, '%3A')
        .replace(/,/g, '%2C');
}
//# sourceMappingURL=command.js.map
;// CONCATENATED MODULE: external "crypto"
const external_crypto_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("crypto");
;// CONCATENATED MODULE: external "fs"
const external_fs_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("fs");
;// CONCATENATED MODULE: ../../work/main/node_modules/@actions/core/lib/file-command.js
// For internal use, subject to change.
// We use any as a valid input type
/* eslint-disable @typescript-eslint/no-explicit-any */




function file_command_issueFileCommand(command, message) {
    const filePath = process.env[`GITHUB_${command}`];
    if (!filePath) {
        throw new Error(`Unable to find environment variable for file command ${command}`);
    }
    if (!external_fs_namespaceObject.existsSync(filePath)) {
        throw new Error(`Missing file at path: ${filePath}`);
    }
    external_fs_namespaceObject.appendFileSync(filePath, `${utils_toCommandValue(message)}${external_os_namespaceObject.EOL}`, {
        encoding: 'utf8'
    });
}
function file_command_prepareKeyValueMessage(key, value) {
    const delimiter = `ghadelimiter_${external_crypto_namespaceObject.randomUUID()}`;
    const convertedValue = utils_toCommandValue(value);
    // These should realistically never happen, but just in case someone finds a
    // way to exploit uuid generation let's not allow keys or values that contain
    // the delimiter.
    if (key.includes(delimiter)) {
        throw new Error(`Unexpected input: name should not contain the delimiter "${delimiter}"`);
    }
    if (convertedValue.includes(delimiter)) {
        throw new Error(`Unexpected input: value should not contain the delimiter "${delimiter}"`);
    }
    return `${key}<<${delimiter}${external_os_namespaceObject.EOL}${convertedValue}${external_os_namespaceObject.EOL}${delimiter}`;
}
//# sourceMappingURL=file-command.js.map
;// CONCATENATED MODULE: external "path"
const external_path_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("path");
;// CONCATENATED MODULE: ../../work/main/node_modules/@actions/core/lib/core.js
var __awaiter = (undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};






/**
 * The code to exit an action
 */
var ExitCode;
(function (ExitCode) {
    /**
     * A code indicating that the action was successful
     */
    ExitCode[ExitCode["Success"] = 0] = "Success";
    /**
     * A code indicating that the action was a failure
     */
    ExitCode[ExitCode["Failure"] = 1] = "Failure";
})(ExitCode || (ExitCode = {}));
//-----------------------------------------------------------------------
// Variables
//-----------------------------------------------------------------------
/**
 * Sets env variable for this action and future actions in the job
 * @param name the name of the variable to set
 * @param val the value of the variable. Non-string values will be converted to a string via JSON.stringify
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function exportVariable(name, val) {
    const convertedVal = utils_toCommandValue(val);
    process.env[name] = convertedVal;
    const filePath = process.env['GITHUB_ENV'] || '';
    if (filePath) {
        return file_command_issueFileCommand('ENV', file_command_prepareKeyValueMessage(name, val));
    }
    command_issueCommand('set-env', { name }, convertedVal);
}
/**
 * Registers a secret which will get masked from logs
 *
 * @param secret - Value of the secret to be masked
 * @remarks
 * This function instructs the Actions runner to mask the specified value in any
 * logs produced during the workflow run. Once registered, the secret value will
 * be replaced with asterisks (***) whenever it appears in console output, logs,
 * or error messages.
 *
 * This is useful for protecting sensitive information such as:
 * - API keys
 * - Access tokens
 * - Authentication credentials
 * - URL parameters containing signatures (SAS tokens)
 *
 * Note that masking only affects future logs; any previous appearances of the
 * secret in logs before calling this function will remain unmasked.
 *
 * @example
 * ```typescript
 * // Register an API token as a secret
 * const apiToken = "abc123xyz456";
 * setSecret(apiToken);
 *
 * // Now any logs containing this value will show *** instead
 * console.log(`Using token: ${apiToken}`); // Outputs: "Using token: ***"
 * ```
 */
function setSecret(secret) {
    command_issueCommand('add-mask', {}, secret);
}
/**
 * Prepends inputPath to the PATH (for this action and future actions)
 * @param inputPath
 */
function addPath(inputPath) {
    const filePath = process.env['GITHUB_PATH'] || '';
    if (filePath) {
        issueFileCommand('PATH', inputPath);
    }
    else {
        issueCommand('add-path', {}, inputPath);
    }
    process.env['PATH'] = `${inputPath}${path.delimiter}${process.env['PATH']}`;
}
/**
 * Gets the value of an input.
 * Unless trimWhitespace is set to false in InputOptions, the value is also trimmed.
 * Returns an empty string if the value is not defined.
 *
 * @param     name     name of the input to get
 * @param     options  optional. See InputOptions.
 * @returns   string
 */
function getInput(name, options) {
    const val = process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || '';
    if (options && options.required && !val) {
        throw new Error(`Input required and not supplied: ${name}`);
    }
    if (options && options.trimWhitespace === false) {
        return val;
    }
    return val.trim();
}
/**
 * Gets the values of an multiline input.  Each value is also trimmed.
 *
 * @param     name     name of the input to get
 * @param     options  optional. See InputOptions.
 * @returns   string[]
 *
 */
function getMultilineInput(name, options) {
    const inputs = getInput(name, options)
        .split('\n')
        .filter(x => x !== '');
    if (options && options.trimWhitespace === false) {
        return inputs;
    }
    return inputs.map(input => input.trim());
}
/**
 * Gets the input value of the boolean type in the YAML 1.2 "core schema" specification.
 * Support boolean input list: `true | True | TRUE | false | False | FALSE` .
 * The return value is also in boolean type.
 * ref: https://yaml.org/spec/1.2/spec.html#id2804923
 *
 * @param     name     name of the input to get
 * @param     options  optional. See InputOptions.
 * @returns   boolean
 */
function getBooleanInput(name, options) {
    const trueValue = ['true', 'True', 'TRUE'];
    const falseValue = ['false', 'False', 'FALSE'];
    const val = getInput(name, options);
    if (trueValue.includes(val))
        return true;
    if (falseValue.includes(val))
        return false;
    throw new TypeError(`Input does not meet YAML 1.2 "Core Schema" specification: ${name}\n` +
        `Support boolean input list: \`true | True | TRUE | false | False | FALSE\``);
}
/**
 * Sets the value of an output.
 *
 * @param     name     name of the output to set
 * @param     value    value to store. Non-string values will be converted to a string via JSON.stringify
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function setOutput(name, value) {
    const filePath = process.env['GITHUB_OUTPUT'] || '';
    if (filePath) {
        return file_command_issueFileCommand('OUTPUT', file_command_prepareKeyValueMessage(name, value));
    }
    process.stdout.write(external_os_namespaceObject.EOL);
    command_issueCommand('set-output', { name }, utils_toCommandValue(value));
}
/**
 * Enables or disables the echoing of commands into stdout for the rest of the step.
 * Echoing is disabled by default if ACTIONS_STEP_DEBUG is not set.
 *
 */
function setCommandEcho(enabled) {
    issue('echo', enabled ? 'on' : 'off');
}
//-----------------------------------------------------------------------
// Results
//-----------------------------------------------------------------------
/**
 * Sets the action status to failed.
 * When the action exits it will be with an exit code of 1
 * @param message add error issue message
 */
function setFailed(message) {
    process.exitCode = ExitCode.Failure;
    error(message);
}
//-----------------------------------------------------------------------
// Logging Commands
//-----------------------------------------------------------------------
/**
 * Gets whether Actions Step Debug is on or not
 */
function isDebug() {
    return process.env['RUNNER_DEBUG'] === '1';
}
/**
 * Writes debug message to user log
 * @param message debug message
 */
function debug(message) {
    command_issueCommand('debug', {}, message);
}
/**
 * Adds an error issue
 * @param message error issue message. Errors will be converted to string via toString()
 * @param properties optional properties to add to the annotation.
 */
function error(message, properties = {}) {
    command_issueCommand('error', utils_toCommandProperties(properties), message instanceof Error ? message.toString() : message);
}
/**
 * Adds a warning issue
 * @param message warning issue message. Errors will be converted to string via toString()
 * @param properties optional properties to add to the annotation.
 */
function warning(message, properties = {}) {
    command_issueCommand('warning', utils_toCommandProperties(properties), message instanceof Error ? message.toString() : message);
}
/**
 * Adds a notice issue
 * @param message notice issue message. Errors will be converted to string via toString()
 * @param properties optional properties to add to the annotation.
 */
function notice(message, properties = {}) {
    issueCommand('notice', toCommandProperties(properties), message instanceof Error ? message.toString() : message);
}
/**
 * Writes info to log with console.log.
 * @param message info message
 */
function info(message) {
    process.stdout.write(message + external_os_namespaceObject.EOL);
}
/**
 * Begin an output group.
 *
 * Output until the next `groupEnd` will be foldable in this group
 *
 * @param name The name of the output group
 */
function startGroup(name) {
    issue('group', name);
}
/**
 * End an output group.
 */
function endGroup() {
    issue('endgroup');
}
/**
 * Wrap an asynchronous function call in a group.
 *
 * Returns the same type as the function itself.
 *
 * @param name The name of the group
 * @param fn The function to wrap in the group
 */
function group(name, fn) {
    return __awaiter(this, void 0, void 0, function* () {
        startGroup(name);
        let result;
        try {
            result = yield fn();
        }
        finally {
            endGroup();
        }
        return result;
    });
}
//-----------------------------------------------------------------------
// Wrapper action state
//-----------------------------------------------------------------------
/**
 * Saves state for current action, the state can only be retrieved by this action's post job execution.
 *
 * @param     name     name of the state to store
 * @param     value    value to store. Non-string values will be converted to a string via JSON.stringify
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function saveState(name, value) {
    const filePath = process.env['GITHUB_STATE'] || '';
    if (filePath) {
        return issueFileCommand('STATE', prepareKeyValueMessage(name, value));
    }
    issueCommand('save-state', { name }, toCommandValue(value));
}
/**
 * Gets the value of an state set by this action's main execution.
 *
 * @param     name     name of the state to get
 * @returns   string
 */
function getState(name) {
    return process.env[`STATE_${name}`] || '';
}
function getIDToken(aud) {
    return __awaiter(this, void 0, void 0, function* () {
        return yield OidcClient.getIDToken(aud);
    });
}
/**
 * Summary exports
 */

/**
 * @deprecated use core.summary
 */

/**
 * Path exports
 */

/**
 * Platform utilities exports
 */

//# sourceMappingURL=core.js.map
;// CONCATENATED MODULE: ../../work/main/node_modules/@actions/core/lib/summary.js
var summary_awaiter = (undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};


const { access, appendFile, writeFile } = external_fs_namespaceObject.promises;
const SUMMARY_ENV_VAR = 'GITHUB_STEP_SUMMARY';
const SUMMARY_DOCS_URL = 'https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions#adding-a-job-summary';
class Summary {
    constructor() {
        this._buffer = '';
    }
    /**
     * Finds the summary file path from the environment, rejects if env var is not found or file does not exist
     * Also checks r/w permissions.
     *
     * @returns step summary file path
     */
    filePath() {
        return summary_awaiter(this, void 0, void 0, function* () {
            if (this._filePath) {
                return this._filePath;
            }
            const pathFromEnv = process.env[SUMMARY_ENV_VAR];
            if (!pathFromEnv) {
                throw new Error(`Unable to find environment variable for $${SUMMARY_ENV_VAR}. Check if your runtime environment supports job summaries.`);
            }
            try {
                yield access(pathFromEnv, external_fs_namespaceObject.constants.R_OK | external_fs_namespaceObject.constants.W_OK);
            }
            catch (_a) {
                throw new Error(`Unable to access summary file: '${pathFromEnv}'. Check if the file has correct read/write permissions.`);
            }
            this._filePath = pathFromEnv;
            return this._filePath;
        });
    }
    /**
     * Wraps content in an HTML tag, adding any HTML attributes
     *
     * @param {string} tag HTML tag to wrap
     * @param {string | null} content content within the tag
     * @param {[attribute: string]: string} attrs key-value list of HTML attributes to add
     *
     * @returns {string} content wrapped in HTML element
     */
    wrap(tag, content, attrs = {}) {
        const htmlAttrs = Object.entries(attrs)
            .map(([key, value]) => ` ${key}="${value}"`)
            .join('');
        if (!content) {
            return `<${tag}${htmlAttrs}>`;
        }
        return `<${tag}${htmlAttrs}>${content}</${tag}>`;
    }
    /**
     * Writes text in the buffer to the summary buffer file and empties buffer. Will append by default.
     *
     * @param {SummaryWriteOptions} [options] (optional) options for write operation
     *
     * @returns {Promise<Summary>} summary instance
     */
    write(options) {
        return summary_awaiter(this, void 0, void 0, function* () {
            const overwrite = !!(options === null || options === void 0 ? void 0 : options.overwrite);
            const filePath = yield this.filePath();
            const writeFunc = overwrite ? writeFile : appendFile;
            yield writeFunc(filePath, this._buffer, { encoding: 'utf8' });
            return this.emptyBuffer();
        });
    }
    /**
     * Clears the summary buffer and wipes the summary file
     *
     * @returns {Summary} summary instance
     */
    clear() {
        return summary_awaiter(this, void 0, void 0, function* () {
            return this.emptyBuffer().write({ overwrite: true });
        });
    }
    /**
     * Returns the current summary buffer as a string
     *
     * @returns {string} string of summary buffer
     */
    stringify() {
        return this._buffer;
    }
    /**
     * If the summary buffer is empty
     *
     * @returns {boolen} true if the buffer is empty
     */
    isEmptyBuffer() {
        return this._buffer.length === 0;
    }
    /**
     * Resets the summary buffer without writing to summary file
     *
     * @returns {Summary} summary instance
     */
    emptyBuffer() {
        this._buffer = '';
        return this;
    }
    /**
     * Adds raw text to the summary buffer
     *
     * @param {string} text content to add
     * @param {boolean} [addEOL=false] (optional) append an EOL to the raw text (default: false)
     *
     * @returns {Summary} summary instance
     */
    addRaw(text, addEOL = false) {
        this._buffer += text;
        return addEOL ? this.addEOL() : this;
    }
    /**
     * Adds the operating system-specific end-of-line marker to the buffer
     *
     * @returns {Summary} summary instance
     */
    addEOL() {
        return this.addRaw(external_os_namespaceObject.EOL);
    }
    /**
     * Adds an HTML codeblock to the summary buffer
     *
     * @param {string} code content to render within fenced code block
     * @param {string} lang (optional) language to syntax highlight code
     *
     * @returns {Summary} summary instance
     */
    addCodeBlock(code, lang) {
        const attrs = Object.assign({}, (lang && { lang }));
        const element = this.wrap('pre', this.wrap('code', code), attrs);
        return this.addRaw(element).addEOL();
    }
    /**
     * Adds an HTML list to the summary buffer
     *
     * @param {string[]} items list of items to render
     * @param {boolean} [ordered=false] (optional) if the rendered list should be ordered or not (default: false)
     *
     * @returns {Summary} summary instance
     */
    addList(items, ordered = false) {
        const tag = ordered ? 'ol' : 'ul';
        const listItems = items.map(item => this.wrap('li', item)).join('');
        const element = this.wrap(tag, listItems);
        return this.addRaw(element).addEOL();
    }
    /**
     * Adds an HTML table to the summary buffer
     *
     * @param {SummaryTableCell[]} rows table rows
     *
     * @returns {Summary} summary instance
     */
    addTable(rows) {
        const tableBody = rows
            .map(row => {
            const cells = row
                .map(cell => {
                if (typeof cell === 'string') {
                    return this.wrap('td', cell);
                }
                const { header, data, colspan, rowspan } = cell;
                const tag = header ? 'th' : 'td';
                const attrs = Object.assign(Object.assign({}, (colspan && { colspan })), (rowspan && { rowspan }));
                return this.wrap(tag, data, attrs);
            })
                .join('');
            return this.wrap('tr', cells);
        })
            .join('');
        const element = this.wrap('table', tableBody);
        return this.addRaw(element).addEOL();
    }
    /**
     * Adds a collapsable HTML details element to the summary buffer
     *
     * @param {string} label text for the closed state
     * @param {string} content collapsable content
     *
     * @returns {Summary} summary instance
     */
    addDetails(label, content) {
        const element = this.wrap('details', this.wrap('summary', label) + content);
        return this.addRaw(element).addEOL();
    }
    /**
     * Adds an HTML image tag to the summary buffer
     *
     * @param {string} src path to the image you to embed
     * @param {string} alt text description of the image
     * @param {SummaryImageOptions} options (optional) addition image attributes
     *
     * @returns {Summary} summary instance
     */
    addImage(src, alt, options) {
        const { width, height } = options || {};
        const attrs = Object.assign(Object.assign({}, (width && { width })), (height && { height }));
        const element = this.wrap('img', null, Object.assign({ src, alt }, attrs));
        return this.addRaw(element).addEOL();
    }
    /**
     * Adds an HTML section heading element
     *
     * @param {string} text heading text
     * @param {number | string} [level=1] (optional) the heading level, default: 1
     *
     * @returns {Summary} summary instance
     */
    addHeading(text, level) {
        const tag = `h${level}`;
        const allowedTag = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].includes(tag)
            ? tag
            : 'h1';
        const element = this.wrap(allowedTag, text);
        return this.addRaw(element).addEOL();
    }
    /**
     * Adds an HTML thematic break (<hr>) to the summary buffer
     *
     * @returns {Summary} summary instance
     */
    addSeparator() {
        const element = this.wrap('hr', null);
        return this.addRaw(element).addEOL();
    }
    /**
     * Adds an HTML line break (<br>) to the summary buffer
     *
     * @returns {Summary} summary instance
     */
    addBreak() {
        const element = this.wrap('br', null);
        return this.addRaw(element).addEOL();
    }
    /**
     * Adds an HTML blockquote to the summary buffer
     *
     * @param {string} text quote text
     * @param {string} cite (optional) citation url
     *
     * @returns {Summary} summary instance
     */
    addQuote(text, cite) {
        const attrs = Object.assign({}, (cite && { cite }));
        const element = this.wrap('blockquote', text, attrs);
        return this.addRaw(element).addEOL();
    }
    /**
     * Adds an HTML anchor tag to the summary buffer
     *
     * @param {string} text link text/content
     * @param {string} href hyperlink
     *
     * @returns {Summary} summary instance
     */
    addLink(text, href) {
        const element = this.wrap('a', text, { href });
        return this.addRaw(element).addEOL();
    }
}
const _summary = new Summary();
/**
 * @deprecated use `core.summary`
 */
const markdownSummary = (/* unused pure expression or super */ null && (_summary));
const summary = _summary;
//# sourceMappingURL=summary.js.map
;// CONCATENATED MODULE: ./src/constants.ts
/** Names shared by action.yml, the README tables and the code; tests check that they agree. */
const ACTION_NAME = 'runai-token-action';
// Kept equal to package.json's version by a test: reading package.json at run time would cost a
// file read and a JSON parse on every start.
const ACTION_VERSION = '1.0.0';
const USER_AGENT = `${ACTION_NAME}/${ACTION_VERSION}`;
const Input = {
    url: 'url',
    clientId: 'client-id',
    clientSecret: 'client-secret',
    appId: 'app-id',
    appSecret: 'app-secret',
    apiVersion: 'api-version',
    exportEnv: 'export-env',
    envName: 'env-name',
    timeoutSeconds: 'timeout-seconds',
    maxAttempts: 'max-attempts',
    caCertificate: 'ca-certificate',
    insecureSkipTlsVerify: 'insecure-skip-tls-verify',
    jobSummary: 'job-summary'
};
const Output = {
    token: 'token',
    expiresIn: 'expires-in',
    expiresAt: 'expires-at',
    apiVersion: 'api-version',
    url: 'url'
};
/** Defaults as declared in action.yml; applied here too so that a bare `node dist/index.js` behaves the same. */
const InputDefault = {
    [Input.apiVersion]: 'auto',
    [Input.exportEnv]: 'true',
    [Input.envName]: 'RUNAI_TOKEN',
    [Input.timeoutSeconds]: '120',
    [Input.maxAttempts]: '5',
    [Input.insecureSkipTlsVerify]: 'false',
    [Input.jobSummary]: 'false'
};
/** Answers larger than this are refused: a token answer is a few kilobytes at most. */
const MAX_ANSWER_BYTES = 1024 * 1024;
/** One attempt never waits longer than this, so that a hung connection still leaves time to retry. */
const MAX_ATTEMPT_MS = 30_000;

;// CONCATENATED MODULE: ./src/errors.ts
/**
 * An error whose message is written for the user of the workflow: it says what failed and what
 * to check. Anything else that reaches main.ts is a bug and is reported as such.
 */
class ActionError extends Error {
    name = 'ActionError';
}
/** A bad input, found before any request is sent. */
class InputError extends ActionError {
    name = 'InputError';
}
/** Replaces every occurrence of each secret with `***`, longest first so that overlaps cannot leak a tail. */
function redact(text, secrets) {
    let out = text;
    for (const secret of [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length)) {
        out = out.split(secret).join('***');
    }
    return out;
}
/** Shortens server-supplied text so that a hostile or verbose answer cannot flood the log. */
function clip(text, max = 200) {
    const flat = text.replace(/\s+/g, ' ').trim();
    return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

;// CONCATENATED MODULE: ./src/expiry.ts
function tokenExpiry(accessToken, expiresInSeconds, nowMs) {
    if (expiresInSeconds !== undefined) {
        return { expiresInSeconds, expiresAt: new Date(nowMs + expiresInSeconds * 1000).toISOString() };
    }
    const exp = jwtExpiry(accessToken);
    if (exp === undefined)
        return undefined;
    return { expiresInSeconds: Math.max(0, Math.floor(exp - nowMs / 1000)), expiresAt: new Date(exp * 1000).toISOString() };
}
/** The `exp` claim (seconds since the epoch) of a JWT, without verifying it: we only report it. */
function jwtExpiry(token) {
    const payload = token.split('.')[1];
    if (payload === undefined || payload === '')
        return undefined;
    try {
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
        const exp = claims?.exp;
        // Reject values that Date cannot represent rather than printing "Invalid Date".
        return typeof exp === 'number' && Number.isFinite(exp) && exp > 0 && exp < 8.64e12 ? exp : undefined;
    }
    catch {
        return undefined;
    }
}

;// CONCATENATED MODULE: ./src/base-url.ts

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
// Users often paste the token endpoint itself; the action adds it back per generation.
const TOKEN_PATH_SUFFIX = /\/api\/v[12]\/token$/i;
/** True for hosts that never leave this machine, where plain http cannot be sniffed. */
function isLoopbackHost(hostname) {
    const host = hostname.toLowerCase();
    return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
/**
 * Turns the `url` input into the control plane's base URL: `https://host[:port][/prefix]`, no
 * trailing slash. Throws an InputError naming `url` for anything that cannot be a safe base.
 */
function normalizeBaseUrl(raw) {
    const text = raw.trim();
    if (text === '') {
        throw new InputError('Input `url` is required: set it to the Run:ai control-plane address, for example https://mycompany.run.ai.');
    }
    const withScheme = SCHEME.test(text) ? text : `https://${text}`;
    let url;
    try {
        url = new URL(withScheme);
    }
    catch {
        throw new InputError(`Input \`url\` is not a valid URL: "${safeEcho(text)}". Set it to the Run:ai control-plane address, for example https://mycompany.run.ai.`);
    }
    if (url.username !== '' || url.password !== '') {
        // Never echo the value: the part before @ is a credential.
        throw new InputError('Input `url` must not carry credentials (user:password@host). Pass the client ID and secret as `client-id` and `client-secret`.');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new InputError(`Input \`url\` must be an https:// address; "${url.protocol}" is not supported.`);
    }
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
        throw new InputError(`Input \`url\` uses plain http:// for ${url.hostname}, which would send the client secret unencrypted. Use https:// (plain http is allowed only for loopback hosts, for local testing).`);
    }
    if (url.search !== '' || url.hash !== '' || /[?#]/.test(text)) {
        throw new InputError('Input `url` must not contain a query (?…) or a fragment (#…): give the address of the Run:ai UI only.');
    }
    if (url.hostname === '') {
        throw new InputError(`Input \`url\` has no host name: "${safeEcho(text)}".`);
    }
    let path = url.pathname.replace(/\/+$/, '');
    path = path.replace(TOKEN_PATH_SUFFIX, '').replace(/\/+$/, '');
    return `${url.protocol}//${url.host}${path}`;
}
/** Echoes an unparseable `url` for the user, unless it might hold a credential. */
function safeEcho(text) {
    return text.includes('@') ? '<hidden: contains @>' : text.slice(0, 200);
}

;// CONCATENATED MODULE: ./src/generations.ts
/**
 * The three generations of Run:ai's token API (see shared/runai-api/README.md) and the request
 * each one expects.
 */
const API_VERSION_CHOICES = ['auto', 'v2', 'v1', 'v1-app-token'];
function buildTokenRequest(generation, credentials) {
    switch (generation) {
        case 'v2':
            // OAuth2 client credentials, form-encoded (control planes 2.25+, v3.0, current SaaS).
            return {
                generation,
                path: '/api/v2/token',
                contentType: 'application/x-www-form-urlencoded',
                body: new URLSearchParams({
                    grant_type: 'client_credentials',
                    client_id: credentials.clientId,
                    client_secret: credentials.clientSecret
                }).toString()
            };
        case 'v1':
            // 2.20+; the spec spells clientID but servers match keys without regard to case: send the documented spelling.
            return v1Request(generation, {
                grantType: 'client_credentials',
                clientId: credentials.clientId,
                clientSecret: credentials.clientSecret
            });
        case 'v1-app-token':
            // 2.18 and 2.19: the request of the original "API Authentication" page, as NVIDIA's own client sends it.
            return v1Request(generation, { grantType: 'app_token', AppId: credentials.clientId, AppSecret: credentials.clientSecret });
    }
}
function v1Request(generation, body) {
    return { generation, path: '/api/v1/token', contentType: 'application/json', body: JSON.stringify(body) };
}

;// CONCATENATED MODULE: ./src/inputs.ts




const SECRETS_HINT = 'Repository secrets are not passed to workflows triggered from forks or by Dependabot; check that the secret exists and is passed to the step under `with:`.';
const MAX_TIMEOUT_SECONDS = 6 * 60 * 60; // a job cannot run longer than six hours on hosted runners
const MAX_ATTEMPTS = 100;
/** Reads and validates every input; the first problem found is thrown as an InputError naming the input. */
function parseInputs(read) {
    const get = (name) => {
        const value = read(name).trim();
        return value === '' ? (InputDefault[name] ?? '') : value;
    };
    return {
        baseUrl: normalizeBaseUrl(get(Input.url)),
        clientId: aliased(get, Input.clientId, Input.appId, 'the client ID of the Run:ai service account, access key or application'),
        clientSecret: aliased(get, Input.clientSecret, Input.appSecret, 'the secret of that client'),
        apiVersion: parseApiVersion(get(Input.apiVersion)),
        exportEnv: parseBoolean(Input.exportEnv, get(Input.exportEnv)),
        envName: parseEnvName(get(Input.envName)),
        timeoutMs: parsePositiveInteger(Input.timeoutSeconds, get(Input.timeoutSeconds), MAX_TIMEOUT_SECONDS) * 1000,
        maxAttempts: parsePositiveInteger(Input.maxAttempts, get(Input.maxAttempts), MAX_ATTEMPTS),
        caCertificate: get(Input.caCertificate),
        insecureSkipTlsVerify: parseBoolean(Input.insecureSkipTlsVerify, get(Input.insecureSkipTlsVerify)),
        jobSummary: parseBoolean(Input.jobSummary, get(Input.jobSummary))
    };
}
/** `client-id`/`app-id` and `client-secret`/`app-secret` are the same input under two names. */
function aliased(get, name, alias, what) {
    const value = get(name);
    const aliasValue = get(alias);
    if (value !== '' && aliasValue !== '' && value !== aliasValue) {
        throw new InputError(`Inputs \`${name}\` and \`${alias}\` are the same setting under two names and were given different values; set only \`${name}\`.`);
    }
    const chosen = value !== '' ? value : aliasValue;
    if (chosen === '') {
        throw new InputError(`Input \`${name}\` is required (${what}; \`${alias}\` is accepted as an alias) but is empty. ${SECRETS_HINT}`);
    }
    return chosen;
}
function parseApiVersion(value) {
    const choice = API_VERSION_CHOICES.find((c) => c === value.toLowerCase());
    if (choice === undefined) {
        throw new InputError(`Input \`${Input.apiVersion}\` must be one of ${API_VERSION_CHOICES.join(', ')}; got "${value.slice(0, 40)}".`);
    }
    return choice;
}
function parseBoolean(name, value) {
    if (/^(true|True|TRUE)$/.test(value))
        return true;
    if (/^(false|False|FALSE)$/.test(value))
        return false;
    throw new InputError(`Input \`${name}\` must be true or false; got "${value.slice(0, 40)}".`);
}
function parsePositiveInteger(name, value, max) {
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < 1 || n > max) {
        throw new InputError(`Input \`${name}\` must be a whole number from 1 to ${max}; got "${value.slice(0, 40)}".`);
    }
    return n;
}
function parseEnvName(value) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
        throw new InputError(`Input \`${Input.envName}\` must be a valid environment variable name (letters, digits and _, not starting with a digit); got "${value.slice(0, 60)}".`);
    }
    // GitHub refuses to set GITHUB_* variables, and NODE_OPTIONS would be read by every later Node step.
    if (/^GITHUB_/i.test(value) || /^NODE_OPTIONS$/i.test(value)) {
        throw new InputError(`Input \`${Input.envName}\` must not be ${value}: GitHub reserves GITHUB_* names and NODE_OPTIONS changes how later Node steps start. Use a name such as RUNAI_TOKEN.`);
    }
    return value;
}

;// CONCATENATED MODULE: ./src/retry.ts
/** Waiting between attempts: exponential backoff with full jitter, and never sooner than `Retry-After`. */
const systemClock = {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: () => Math.random()
};
const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 20_000;
/**
 * Delay before attempt `attempt + 1` (attempt counts from 1). Full jitter spreads a matrix of jobs
 * that failed together. A server's Retry-After already says when to come back: it is the floor,
 * with at most one base interval of jitter on top, so that a herd does not return in the same
 * instant but does not wait longer than it was told either.
 */
function retryDelayMs(attempt, retryAfterMs, random) {
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
    if (retryAfterMs === undefined)
        return Math.floor(random() * ceiling);
    return retryAfterMs + Math.floor(random() * Math.min(ceiling, BACKOFF_BASE_MS));
}
/** `Retry-After` as delta-seconds or an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
function parseRetryAfter(value, nowMs) {
    if (value === undefined)
        return undefined;
    const text = value.trim();
    if (/^\d+$/.test(text))
        return Number(text) * 1000;
    if (!/GMT$/i.test(text))
        return undefined; // HTTP dates end in GMT; Date.parse would take "-1" as a year
    const date = Date.parse(text);
    return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

;// CONCATENATED MODULE: external "node:fs"
const external_node_fs_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");
;// CONCATENATED MODULE: external "node:crypto"
const external_node_crypto_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:crypto");
;// CONCATENATED MODULE: ./src/tls-trust.ts




const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const readUtf8 = (path) => (0,external_node_fs_namespaceObject.readFileSync)(path, 'utf8');
/**
 * The certificate authorities to trust besides Node's roots when `ca-certificate` is set: the file
 * in NODE_EXTRA_CA_CERTS (which a `ca` option would otherwise drop) and the given ones. Undefined
 * when the input is empty, so that Node's default trust store applies unchanged.
 */
function extraAuthorities(caInput, env, readFile = readUtf8) {
    if (caInput === '')
        return undefined;
    const fromEnv = env.NODE_EXTRA_CA_CERTS ? readOptional(env.NODE_EXTRA_CA_CERTS, readFile) : [];
    return [...fromEnv, ...parseCaInput(caInput, readFile)];
}
/** `ca-certificate` is PEM text or the path of a PEM file; either way it must hold valid certificates. */
function parseCaInput(caInput, readFile = readUtf8) {
    let pem = caInput;
    let source = 'the PEM text given';
    if (!caInput.includes('-----BEGIN')) {
        try {
            pem = readFile(caInput);
        }
        catch (error) {
            const code = error.code ?? 'unreadable';
            throw new InputError(`Input \`${Input.caCertificate}\` is neither PEM text (-----BEGIN CERTIFICATE-----…) nor a readable file: cannot read "${caInput.slice(0, 200)}" (${code}).`);
        }
        source = `the file "${caInput.slice(0, 200)}"`;
    }
    const blocks = pem.match(PEM_CERTIFICATE) ?? [];
    if (blocks.length === 0) {
        throw new InputError(`Input \`${Input.caCertificate}\`: ${source} holds no PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----).`);
    }
    blocks.forEach((block, index) => {
        try {
            new external_node_crypto_namespaceObject.X509Certificate(block);
        }
        catch {
            throw new InputError(`Input \`${Input.caCertificate}\`: certificate ${index + 1} of ${blocks.length} in ${source} is not a valid X.509 certificate.`);
        }
    });
    return blocks;
}
function readOptional(path, readFile) {
    try {
        return readFile(path).match(PEM_CERTIFICATE) ?? [];
    }
    catch {
        return []; // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS; so do we, by ignoring it.
    }
}

;// CONCATENATED MODULE: ./src/token-answer.ts

const TRANSIENT_STATUSES = new Set([429, 500, 502, 503, 504]);
const OAUTH2_ERROR_CODES = new Set([
    'invalid_request',
    'invalid_client',
    'invalid_grant',
    'unauthorized_client',
    'unsupported_grant_type',
    'invalid_scope'
]);
const ACCESS_TOKEN_KEYS = ['access_token', 'accesstoken'];
const OTHER_TOKEN_KEYS = ['refresh_token', 'refreshtoken', 'id_token', 'idtoken', 'externaltoken'];
const EXPIRES_IN_KEYS = ['expires_in', 'expiresin'];
const BEARER_TOKEN = /^[\x21-\x7e]+$/;
function interpretAnswer(answer) {
    const { status } = answer;
    const fields = parseJsonObject(answer.body);
    const reason = fields === undefined ? undefined : errorReason(fields);
    const detail = describeStatus(status, reason);
    if (status >= 300 && status < 400) {
        return { kind: 'redirect', status, location: answer.location ?? '', detail };
    }
    if (TRANSIENT_STATUSES.has(status)) {
        return { kind: 'transient', status, detail };
    }
    if (fields === undefined && looksLikeWebPage(answer)) {
        return { kind: 'web-page', status, detail: `HTTP ${status} with a web page (HTML) instead of JSON` };
    }
    if (fields === undefined) {
        return { kind: 'other', status, detail: `${detail} with a body that is not JSON`, json: false };
    }
    if (status >= 200 && status < 300) {
        const accessToken = stringField(fields, ACCESS_TOKEN_KEYS);
        if (accessToken === undefined) {
            return { kind: 'other', status, detail: `HTTP ${status} without an access token in the answer`, json: true };
        }
        // It goes into an Authorization header later: printable ASCII without spaces, as RFC 6750 needs.
        if (!BEARER_TOKEN.test(accessToken)) {
            return { kind: 'other', status, detail: `HTTP ${status} with an access token that is not printable ASCII`, json: true };
        }
        const otherTokens = OTHER_TOKEN_KEYS.map((k) => stringField(fields, [k])).filter((t) => t !== undefined);
        const expiresInSeconds = positiveNumberField(fields, EXPIRES_IN_KEYS);
        return { kind: 'token', grant: { accessToken, otherTokens, ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }) } };
    }
    // RFC 6749 5.2: a token endpoint that judged the request answers 400 or 401 with one of these
    // codes. A 404 with {"error": "Not Found"} (as many web frameworks answer) is no such verdict.
    if ((status === 400 || status === 401) && OAUTH2_ERROR_CODES.has(String(fields.get('error')))) {
        return { kind: 'oauth-error', status, detail };
    }
    return { kind: 'other', status, detail, json: true };
}
/** A JSON object with its keys lower-cased: Run:ai matches keys without regard to case, and so do we. */
function parseJsonObject(body) {
    let value;
    try {
        value = JSON.parse(body);
    }
    catch {
        return undefined;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
        return undefined;
    return new Map(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]));
}
function stringField(fields, keys) {
    for (const key of keys) {
        const value = fields.get(key);
        if (typeof value === 'string' && value.trim() !== '')
            return value;
    }
    return undefined;
}
function positiveNumberField(fields, keys) {
    for (const key of keys) {
        const value = fields.get(key);
        const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
        if (typeof n === 'number' && Number.isFinite(n) && n > 0)
            return Math.floor(n);
    }
    return undefined;
}
/** `error: error_description` (OAuth2) or `message (details)` (v1), cut short. */
function errorReason(fields) {
    const text = (key) => {
        const v = fields.get(key);
        return typeof v === 'string' && v.trim() !== '' ? v : undefined;
    };
    const error = text('error');
    if (error !== undefined) {
        const description = text('error_description');
        return clip(description === undefined ? error : `${error}: ${description}`);
    }
    const message = text('message');
    if (message !== undefined) {
        const details = text('details');
        return clip(details === undefined ? message : `${message} (${details})`);
    }
    return undefined;
}
function describeStatus(status, reason) {
    return reason === undefined ? `HTTP ${status}` : `HTTP ${status}: ${reason}`;
}
function looksLikeWebPage(answer) {
    return /html/i.test(answer.contentType) || /^\s*</.test(answer.body);
}

;// CONCATENATED MODULE: ./src/transport-error.ts
/** A request that got no usable HTTP answer. `transient` says whether trying again may help. */
class TransportError extends Error {
    transient;
    name = 'TransportError';
    constructor(message, transient) {
        super(message);
        this.transient = transient;
    }
}

;// CONCATENATED MODULE: ./src/token-client.ts






/**
 * Requests a token from the control plane. With `auto`, negotiates newest generation first: an
 * answer that shows the endpoint is missing moves on, an answer that judged the credentials stops.
 */
async function requestToken(settings, deps) {
    const deadline = deps.clock.now() + settings.timeoutMs;
    const refusals = [];
    let generation = settings.apiVersion === 'auto' ? 'v2' : settings.apiVersion;
    for (;;) {
        const request = buildTokenRequest(generation, settings);
        const endpoint = `${settings.baseUrl}${request.path}`;
        const outcome = await sendWithRetries(endpoint, request.contentType, request.body, generation, settings, deps, deadline);
        if ('accessToken' in outcome)
            return outcome;
        refusals.push({ generation, endpoint, verdict: outcome });
        const next = settings.apiVersion === 'auto' ? nextGeneration(generation, outcome) : 'stop';
        if (next === 'stop')
            throw new ActionError(describeRefusals(refusals, settings));
        deps.info(`${endpoint} answered ${outcome.detail}; trying api-version ${next}.`);
        generation = next;
    }
}
/** The negotiation table of `auto` (README: "Pinning the API generation"). */
function nextGeneration(generation, verdict) {
    if (generation === 'v2') {
        // An OAuth2 error body means v2 exists and judged the credentials; anything else means no v2 here.
        return verdict.kind === 'oauth-error' ? 'stop' : 'v1';
    }
    if (generation === 'v1' && (verdict.status === 400 || verdict.status === 422)) {
        // 2.18 and 2.19 reject the client_credentials grant as a bad request; they know only app_token.
        return 'v1-app-token';
    }
    return 'stop';
}
async function sendWithRetries(endpoint, contentType, body, generation, settings, deps, deadline) {
    const { clock } = deps;
    for (let attempt = 1;; attempt++) {
        let problem;
        let retryAfterMs;
        try {
            const timeoutMs = Math.min(MAX_ATTEMPT_MS, deadline - clock.now());
            const answer = await deps.send({ url: endpoint, contentType, body, userAgent: USER_AGENT, timeoutMs });
            const verdict = interpretAnswer(answer);
            if (verdict.kind === 'token') {
                deps.mask(verdict.grant.accessToken);
                verdict.grant.otherTokens.forEach(deps.mask);
                return { ...verdict.grant, generation };
            }
            if (verdict.kind === 'redirect')
                throw new ActionError(describeRedirect(endpoint, verdict));
            if (verdict.kind !== 'transient')
                return verdict;
            problem = verdict.detail;
            retryAfterMs = parseRetryAfter(answer.retryAfter, clock.now());
        }
        catch (error) {
            if (!(error instanceof TransportError))
                throw error;
            if (!error.transient)
                throw new ActionError(`Could not get a Run:ai token from ${endpoint}: ${error.message}`);
            problem = error.message;
        }
        const spentSeconds = Math.round((settings.timeoutMs - (deadline - clock.now())) / 1000);
        const givingUp = `Could not get a Run:ai token from ${endpoint} after ${attempt} attempt(s) in ${spentSeconds} s; the last one failed with ${problem.replace(/\.+$/, '')}`;
        if (attempt >= settings.maxAttempts) {
            throw new ActionError(`${givingUp}. The control plane may be down or overloaded; try again later, or raise \`max-attempts\`.`);
        }
        const delay = retryDelayMs(attempt, retryAfterMs, () => clock.random());
        if (clock.now() + delay >= deadline) {
            throw new ActionError(`${givingUp}. \`timeout-seconds\` (${settings.timeoutMs / 1000}) leaves no time for another attempt; check that \`url\` is reachable from the runner (firewall, HTTPS_PROXY/NO_PROXY) or raise \`timeout-seconds\`.`);
        }
        deps.debug(`Attempt ${attempt} of ${settings.maxAttempts} at ${endpoint} failed with ${problem}; retrying in ${delay} ms.`);
        await clock.sleep(delay);
    }
}
function describeRedirect(endpoint, verdict) {
    let where = 'an address it did not name';
    if (verdict.location !== '') {
        try {
            const target = new URL(verdict.location, endpoint);
            where = `${target.origin}${target.pathname}`; // query and fragment may carry state; leave them out
        }
        catch {
            where = 'an address that is not a valid URL';
        }
    }
    return `${endpoint} answered HTTP ${verdict.status}, redirecting to ${where}. Redirects are not followed because the request carries the client secret. Set \`url\` to the Run:ai control-plane address itself (the address of the Run:ai UI, such as https://mycompany.run.ai), not to an address that forwards to it.`;
}
function describeRefusals(refusals, settings) {
    const last = refusals[refusals.length - 1]?.verdict;
    if (refusals.every((r) => r.verdict.kind === 'web-page')) {
        return `\`url\` (${settings.baseUrl}) points at a web page, not the Run:ai API: ${refusals.map((r) => r.endpoint).join(' and ')} answered HTML. Set \`url\` to the Run:ai control-plane address (the address of the Run:ai UI, such as https://mycompany.run.ai); a login page or proxy in front of it cannot be used.`;
    }
    const list = refusals.map((r) => `api-version ${r.generation}: POST ${r.endpoint} answered ${r.verdict.detail}`).join('; ');
    const credentialsJudged = last !== undefined && (last.kind === 'oauth-error' || (last.kind === 'other' && last.json && [400, 401, 403].includes(last.status)));
    if (credentialsJudged) {
        const oldServerHint = settings.apiVersion === 'v1' ? ' Control planes 2.18 and 2.19 accept only `api-version: v1-app-token`.' : '';
        return `Run:ai refused the request for a token (${list}). Check \`client-id\` and \`client-secret\`: they must be the client ID and a current secret of a service account, access key or application of this control plane.${oldServerHint}`;
    }
    if (settings.apiVersion !== 'auto') {
        return `Could not get a Run:ai token with api-version ${settings.apiVersion} (${list}). Check that \`url\` is the Run:ai control-plane address and that it supports this api-version; \`api-version: auto\` finds the right one.`;
    }
    return `Could not get a Run:ai token from ${settings.baseUrl}; no API generation answered with a token (${list}). Check that \`url\` is the Run:ai control-plane address, and \`client-id\` and \`client-secret\`.`;
}

;// CONCATENATED MODULE: external "node:http"
const external_node_http_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http");
;// CONCATENATED MODULE: external "node:net"
const external_node_net_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:net");
;// CONCATENATED MODULE: ../../work/main/node_modules/@actions/http-client/lib/proxy.js
function getProxyUrl(reqUrl) {
    const usingSsl = reqUrl.protocol === 'https:';
    if (checkBypass(reqUrl)) {
        return undefined;
    }
    const proxyVar = (() => {
        if (usingSsl) {
            return process.env['https_proxy'] || process.env['HTTPS_PROXY'];
        }
        else {
            return process.env['http_proxy'] || process.env['HTTP_PROXY'];
        }
    })();
    if (proxyVar) {
        try {
            return new DecodedURL(proxyVar);
        }
        catch (_a) {
            if (!proxyVar.startsWith('http://') && !proxyVar.startsWith('https://'))
                return new DecodedURL(`http://${proxyVar}`);
        }
    }
    else {
        return undefined;
    }
}
function checkBypass(reqUrl) {
    if (!reqUrl.hostname) {
        return false;
    }
    const reqHost = reqUrl.hostname;
    if (isLoopbackAddress(reqHost)) {
        return true;
    }
    const noProxy = process.env['no_proxy'] || process.env['NO_PROXY'] || '';
    if (!noProxy) {
        return false;
    }
    // Determine the request port
    let reqPort;
    if (reqUrl.port) {
        reqPort = Number(reqUrl.port);
    }
    else if (reqUrl.protocol === 'http:') {
        reqPort = 80;
    }
    else if (reqUrl.protocol === 'https:') {
        reqPort = 443;
    }
    // Format the request hostname and hostname with port
    const upperReqHosts = [reqUrl.hostname.toUpperCase()];
    if (typeof reqPort === 'number') {
        upperReqHosts.push(`${upperReqHosts[0]}:${reqPort}`);
    }
    // Compare request host against noproxy
    for (const upperNoProxyItem of noProxy
        .split(',')
        .map(x => x.trim().toUpperCase())
        .filter(x => x)) {
        if (upperNoProxyItem === '*' ||
            upperReqHosts.some(x => x === upperNoProxyItem ||
                x.endsWith(`.${upperNoProxyItem}`) ||
                (upperNoProxyItem.startsWith('.') &&
                    x.endsWith(`${upperNoProxyItem}`)))) {
            return true;
        }
    }
    return false;
}
function isLoopbackAddress(host) {
    const hostLower = host.toLowerCase();
    return (hostLower === 'localhost' ||
        hostLower.startsWith('127.') ||
        hostLower.startsWith('[::1]') ||
        hostLower.startsWith('[0:0:0:0:0:0:0:1]'));
}
class DecodedURL extends URL {
    constructor(url, base) {
        super(url, base);
        this._decodedUsername = decodeURIComponent(super.username);
        this._decodedPassword = decodeURIComponent(super.password);
    }
    get username() {
        return this._decodedUsername;
    }
    get password() {
        return this._decodedPassword;
    }
}
//# sourceMappingURL=proxy.js.map
;// CONCATENATED MODULE: ./src/proxy-tunnel.ts


/**
 * Opens a CONNECT tunnel through an HTTP(S) proxy to `host:port`. TLS to the control plane is then
 * run inside the tunnel by the caller, so the proxy sees neither the secret nor the token, and the
 * caller's CA settings apply end to end.
 */
async function openTunnel(proxy, host, port, signal) {
    const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const headers = { Host: authority };
    if (proxy.username !== '' || proxy.password !== '') {
        headers['Proxy-Authorization'] = `Basic ${Buffer.from(`${proxy.username}:${proxy.password}`).toString('base64')}`;
    }
    const proxyPort = proxy.port || (proxy.protocol === 'https:' ? '443' : '80');
    const proxyName = `${proxy.hostname}:${proxyPort}`;
    const send = proxy.protocol === 'https:' ? (await Promise.resolve(/* import() */).then(__nccwpck_require__.t.bind(__nccwpck_require__, 708, 23))).request : external_node_http_namespaceObject.request;
    return new Promise((resolve, reject) => {
        const request = send({
            host: proxy.hostname.replace(/^\[|\]$/g, ''),
            port: proxyPort,
            method: 'CONNECT',
            path: authority,
            headers,
            agent: false,
            signal
        });
        request.once('connect', (response, socket) => {
            if (response.statusCode === 200) {
                resolve(socket);
                return;
            }
            socket.destroy();
            const status = response.statusCode ?? 0;
            const hint = status === 407 ? ' The proxy wants credentials: put them in HTTPS_PROXY as http://user:password@proxy:port.' : '';
            reject(new TransportError(`the proxy ${proxyName} refused to open a tunnel to ${authority} (HTTP ${status}).${hint}`, status >= 500));
        });
        request.once('error', (error) => {
            if (signal.aborted) {
                reject(signal.reason);
                return;
            }
            reject(new TransportError(`could not reach the proxy ${proxyName} (from HTTPS_PROXY): ${error.code ?? error.message}.`, true));
        });
        request.end();
    });
}

;// CONCATENATED MODULE: ./src/transport.ts






// Verification failures: retrying cannot help, the user has to fix the trust.
const CERTIFICATE_ERRORS = new Set([
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'UNABLE_TO_GET_ISSUER_CERT',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'CERT_HAS_EXPIRED',
    'CERT_NOT_YET_VALID',
    'CERT_UNTRUSTED',
    'CERT_REJECTED',
    'CERT_SIGNATURE_FAILURE',
    'CERT_REVOKED',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'HOSTNAME_MISMATCH'
]);
// Failures that a second try will not mend either.
const PERMANENT_ERRORS = new Set(['ENOTFOUND', 'ERR_INVALID_URL', 'EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER']);
/**
 * POSTs one request and reads the answer. Redirects are never followed (the body carries the
 * secret); proxies come from HTTPS_PROXY/NO_PROXY as @actions/http-client reads them.
 */
function createTransport(trust) {
    return (request) => post(request, trust);
}
async function post(request, trust) {
    const target = new URL(request.url);
    const controller = new AbortController();
    const timedOut = new TransportError(`no answer from ${target.host} within ${Math.ceil(request.timeoutMs / 1000)} s.`, true);
    const timer = setTimeout(() => controller.abort(timedOut), request.timeoutMs);
    let tunnel;
    try {
        const isHttps = target.protocol === 'https:';
        const port = Number(target.port || (isHttps ? 443 : 80));
        const host = target.hostname.replace(/^\[|\]$/g, '');
        // Plain http is only allowed for loopback, which @actions/http-client never proxies.
        const proxy = isHttps ? getProxyUrl(target) : undefined;
        tunnel = proxy === undefined ? undefined : await openTunnel(proxy, host, port, controller.signal);
        // Loaded only when needed: a plain-http run (loopback, for tests and the demo) never uses TLS.
        const tls = isHttps ? await Promise.resolve(/* import() */).then(__nccwpck_require__.t.bind(__nccwpck_require__, 692, 23)) : undefined;
        const tlsOptions = {
            rejectUnauthorized: !trust.insecureSkipTlsVerify,
            // A `ca` option replaces Node's roots, so they are put back in front of the extra ones.
            ...(trust.extraCa === undefined || tls === undefined ? {} : { ca: [...tls.rootCertificates, ...trust.extraCa] }),
            // SNI takes names only, not addresses.
            ...((0,external_node_net_namespaceObject.isIP)(host) === 0 ? { servername: host } : {})
        };
        const options = {
            host,
            port,
            path: target.pathname,
            method: 'POST',
            signal: controller.signal,
            headers: {
                'Content-Type': request.contentType,
                'Content-Length': Buffer.byteLength(request.body),
                Accept: 'application/json',
                'User-Agent': request.userAgent
            },
            ...(isHttps ? tlsOptions : {}),
            // No pooled connections: one request per socket, closed when answered, so the process can exit.
            // Node only uses createConnection when no agent is given, so the tunnel case leaves agent out.
            ...(tunnel === undefined || tls === undefined
                ? { agent: false }
                : { createConnection: () => tls.connect({ ...tlsOptions, socket: tunnel }) })
        };
        const send = isHttps ? (await Promise.resolve(/* import() */).then(__nccwpck_require__.t.bind(__nccwpck_require__, 708, 23))).request : external_node_http_namespaceObject.request;
        return await exchange(send, options, request.body, target.host, controller);
    }
    catch (error) {
        throw controller.signal.aborted ? controller.signal.reason : classifyRequestError(error, target.host);
    }
    finally {
        clearTimeout(timer);
        tunnel?.destroy();
    }
}
function exchange(send, options, body, hostLabel, controller) {
    return new Promise((resolve, reject) => {
        const req = send(options, (res) => {
            const chunks = [];
            let size = 0;
            res.on('data', (chunk) => {
                size += chunk.length;
                if (size > MAX_ANSWER_BYTES) {
                    controller.abort(new TransportError(`the answer from ${hostLabel} is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB; a token answer is a few kilobytes, so \`url\` probably does not point at the Run:ai API.`, false));
                    return;
                }
                chunks.push(chunk);
            });
            res.once('end', () => {
                if (!res.complete) {
                    reject(new TransportError(`the connection to ${hostLabel} closed before the whole answer arrived.`, true));
                    return;
                }
                resolve({
                    status: res.statusCode ?? 0,
                    contentType: res.headers['content-type'] ?? '',
                    ...(res.headers.location === undefined ? {} : { location: res.headers.location }),
                    ...(headerText(res.headers['retry-after']) === undefined ? {} : { retryAfter: headerText(res.headers['retry-after']) }),
                    body: Buffer.concat(chunks).toString('utf8')
                });
            });
            res.once('error', reject);
            res.once('aborted', () => reject(new TransportError(`the connection to ${hostLabel} closed before the whole answer arrived.`, true)));
        });
        req.once('error', reject);
        req.end(body);
    });
}
function headerText(value) {
    return Array.isArray(value) ? value[0] : value;
}
/** Turns a Node request error into a sentence for the user, and says whether retrying may help. */
function classifyRequestError(error, hostLabel) {
    if (error instanceof TransportError)
        return error;
    const err = error;
    const code = err.code ?? '';
    if (CERTIFICATE_ERRORS.has(code)) {
        return new TransportError(`the TLS certificate of ${hostLabel} could not be verified (${code}: ${err.message}). If the control plane uses a private CA, pass that CA's certificate in \`ca-certificate\` (PEM text or a file path) or point NODE_EXTRA_CA_CERTS at it.`, false);
    }
    if (code === 'ENOTFOUND') {
        return new TransportError(`the host ${hostLabel} could not be found (DNS lookup failed); check \`url\`.`, false);
    }
    const reason = code !== '' ? `${code}${err.message && !err.message.includes(code) ? ` (${err.message})` : ''}` : err.message;
    return new TransportError(`could not talk to ${hostLabel}: ${reason}.`, !PERMANENT_ERRORS.has(code));
}

;// CONCATENATED MODULE: ./src/main.ts









const defaultDeps = {
    // Named, not spread from a namespace: a spread would use every export of @actions/core and keep
    // its OIDC client (and undici behind it) in the bundle. See BENCHMARKS.md.
    core: {
        getInput: getInput,
        setSecret: setSecret,
        setOutput: setOutput,
        exportVariable: exportVariable,
        setFailed: setFailed,
        info: info,
        warning: warning,
        debug: debug,
        isDebug: isDebug,
        appendSummary: async (markdown) => void (await summary.addRaw(markdown, true).write())
    },
    clock: systemClock,
    createSender: createTransport,
    env: process.env
};
/** Reads the inputs, gets a token and hands it on; every failure ends in one setFailed sentence. */
async function run(deps = defaultDeps) {
    const { core, clock } = deps;
    const secrets = [];
    const mask = (value) => {
        secrets.push(value);
        core.setSecret(value);
    };
    // Server text reaches the log lines; a server that echoes the secret must not get it printed.
    const info = (message) => core.info(redact(message, secrets));
    const debug = (message) => core.debug(redact(message, secrets));
    const warning = (message) => core.warning(redact(message, secrets));
    try {
        const read = (name) => core.getInput(name);
        // Masked before anything else runs, under whichever name the secret came.
        for (const name of [Input.clientSecret, Input.appSecret]) {
            const secret = read(name).trim();
            if (secret !== '')
                mask(secret);
        }
        const config = parseInputs(read);
        if (config.insecureSkipTlsVerify) {
            warning('insecure-skip-tls-verify is true: the certificate of the Run:ai control plane is not checked, so anyone on the network path could read the client secret and the token. Pass the CA in `ca-certificate` instead.');
        }
        const trust = { insecureSkipTlsVerify: config.insecureSkipTlsVerify };
        const extraCa = extraAuthorities(config.caCertificate, deps.env);
        if (extraCa !== undefined)
            trust.extraCa = extraCa;
        debug(`Requesting a token from ${config.baseUrl} with api-version ${config.apiVersion}.`);
        const issued = await requestToken(config, { send: deps.createSender(trust), clock, mask, info, debug });
        const expiry = tokenExpiry(issued.accessToken, issued.expiresInSeconds, clock.now());
        handOn(core, config, issued, expiry);
        info(successMessage(config, issued, expiry));
        if (config.jobSummary)
            await core.appendSummary(redact(summaryLine(config, issued, expiry), secrets));
    }
    catch (error) {
        core.setFailed(redact(failureMessage(error), secrets));
        if (error instanceof Error && error.stack !== undefined && core.isDebug())
            debug(error.stack);
    }
}
/** Outputs first, then the environment variable: the token is already masked by requestToken. */
function handOn(core, config, issued, expiry) {
    core.setOutput(Output.token, issued.accessToken);
    core.setOutput(Output.expiresIn, expiry === undefined ? '' : String(expiry.expiresInSeconds));
    core.setOutput(Output.expiresAt, expiry?.expiresAt ?? '');
    core.setOutput(Output.apiVersion, issued.generation);
    core.setOutput(Output.url, config.baseUrl);
    if (config.exportEnv)
        core.exportVariable(config.envName, issued.accessToken);
}
function successMessage(config, issued, expiry) {
    const until = expiry === undefined ? '' : `, valid until ${expiry.expiresAt}`;
    const where = config.exportEnv
        ? ` Later steps find it in $${config.envName} and in the step output \`token\`.`
        : ' It is in the step output `token`.';
    return `Got a Run:ai token from ${config.baseUrl} (api-version ${issued.generation})${until}.${where}`;
}
function summaryLine(config, issued, expiry) {
    // The client ID is user text going into Markdown: keep it from forming links, HTML or code.
    const plain = (text) => text.replace(/[\\`*_[\]<>|]/g, (c) => `&#${c.charCodeAt(0)};`);
    return `Run:ai token for client ${plain(config.clientId)} from ${config.baseUrl} (api-version ${issued.generation}), expires ${expiry?.expiresAt ?? 'at an unknown time'}.`;
}
function failureMessage(error) {
    if (error instanceof ActionError)
        return error.message;
    const text = error instanceof Error ? error.message : String(error);
    return `runai-token-action failed unexpectedly: ${text}. Re-run with debug logging for details, and please report it.`;
}


/***/ }),

/***/ 708:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:https");

/***/ }),

/***/ 692:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:tls");

/***/ })

/******/ });
/************************************************************************/
/******/ // The module cache
/******/ var __webpack_module_cache__ = {};
/******/ 
/******/ // The require function
/******/ function __nccwpck_require__(moduleId) {
/******/ 	// Check if module is in cache
/******/ 	var cachedModule = __webpack_module_cache__[moduleId];
/******/ 	if (cachedModule !== undefined) {
/******/ 		return cachedModule.exports;
/******/ 	}
/******/ 	// Create a new module (and put it into the cache)
/******/ 	var module = __webpack_module_cache__[moduleId] = {
/******/ 		// no module.id needed
/******/ 		// no module.loaded needed
/******/ 		exports: {}
/******/ 	};
/******/ 
/******/ 	// Execute the module function
/******/ 	var threw = true;
/******/ 	try {
/******/ 		__webpack_modules__[moduleId](module, module.exports, __nccwpck_require__);
/******/ 		threw = false;
/******/ 	} finally {
/******/ 		if(threw) delete __webpack_module_cache__[moduleId];
/******/ 	}
/******/ 
/******/ 	// Return the exports of the module
/******/ 	return module.exports;
/******/ }
/******/ 
/************************************************************************/
/******/ /* webpack/runtime/asset-relocator-loader */
/******/ if (typeof __nccwpck_require__ !== 'undefined') __nccwpck_require__.ab = decodeURIComponent(new URL('.', import.meta.url).pathname).slice(import.meta.url.match(/^file:\/\/\/\w:/) ? 1 : 0, -1) + "/";
/******/ 
/******/ /* webpack/runtime/async module */
/******/ (() => {
/******/ 	var webpackQueues = typeof Symbol === "function" ? Symbol("webpack queues") : "__webpack_queues__";
/******/ 	var webpackExports = typeof Symbol === "function" ? Symbol("webpack exports") : "__webpack_exports__";
/******/ 	var webpackError = typeof Symbol === "function" ? Symbol("webpack error") : "__webpack_error__";
/******/ 	var resolveQueue = (queue) => {
/******/ 		if(queue && queue.d < 1) {
/******/ 			queue.d = 1;
/******/ 			queue.forEach((fn) => (fn.r--));
/******/ 			queue.forEach((fn) => (fn.r-- ? fn.r++ : fn()));
/******/ 		}
/******/ 	}
/******/ 	var wrapDeps = (deps) => (deps.map((dep) => {
/******/ 		if(dep !== null && typeof dep === "object") {
/******/ 			if(dep[webpackQueues]) return dep;
/******/ 			if(dep.then) {
/******/ 				var queue = [];
/******/ 				queue.d = 0;
/******/ 				dep.then((r) => {
/******/ 					obj[webpackExports] = r;
/******/ 					resolveQueue(queue);
/******/ 				}, (e) => {
/******/ 					obj[webpackError] = e;
/******/ 					resolveQueue(queue);
/******/ 				});
/******/ 				var obj = {};
/******/ 				obj[webpackQueues] = (fn) => (fn(queue));
/******/ 				return obj;
/******/ 			}
/******/ 		}
/******/ 		var ret = {};
/******/ 		ret[webpackQueues] = x => {};
/******/ 		ret[webpackExports] = dep;
/******/ 		return ret;
/******/ 	}));
/******/ 	__nccwpck_require__.a = (module, body, hasAwait) => {
/******/ 		var queue;
/******/ 		hasAwait && ((queue = []).d = -1);
/******/ 		var depQueues = new Set();
/******/ 		var exports = module.exports;
/******/ 		var currentDeps;
/******/ 		var outerResolve;
/******/ 		var reject;
/******/ 		var promise = new Promise((resolve, rej) => {
/******/ 			reject = rej;
/******/ 			outerResolve = resolve;
/******/ 		});
/******/ 		promise[webpackExports] = exports;
/******/ 		promise[webpackQueues] = (fn) => (queue && fn(queue), depQueues.forEach(fn), promise["catch"](x => {}));
/******/ 		module.exports = promise;
/******/ 		body((deps) => {
/******/ 			currentDeps = wrapDeps(deps);
/******/ 			var fn;
/******/ 			var getResult = () => (currentDeps.map((d) => {
/******/ 				if(d[webpackError]) throw d[webpackError];
/******/ 				return d[webpackExports];
/******/ 			}))
/******/ 			var promise = new Promise((resolve) => {
/******/ 				fn = () => (resolve(getResult));
/******/ 				fn.r = 0;
/******/ 				var fnQueue = (q) => (q !== queue && !depQueues.has(q) && (depQueues.add(q), q && !q.d && (fn.r++, q.push(fn))));
/******/ 				currentDeps.map((dep) => (dep[webpackQueues](fnQueue)));
/******/ 			});
/******/ 			return fn.r ? promise : getResult();
/******/ 		}, (err) => ((err ? reject(promise[webpackError] = err) : outerResolve(exports)), resolveQueue(queue)));
/******/ 		queue && queue.d < 0 && (queue.d = 0);
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/create fake namespace object */
/******/ (() => {
/******/ 	var getProto = Object.getPrototypeOf ? (obj) => (Object.getPrototypeOf(obj)) : (obj) => (obj.__proto__);
/******/ 	var leafPrototypes;
/******/ 	// create a fake namespace object
/******/ 	// mode & 1: value is a module id, require it
/******/ 	// mode & 2: merge all properties of value into the ns
/******/ 	// mode & 4: return value when already ns object
/******/ 	// mode & 16: return value when it's Promise-like
/******/ 	// mode & 8|1: behave like require
/******/ 	__nccwpck_require__.t = function(value, mode) {
/******/ 		if(mode & 1) value = this(value);
/******/ 		if(mode & 8) return value;
/******/ 		if(typeof value === 'object' && value) {
/******/ 			if((mode & 4) && value.__esModule) return value;
/******/ 			if((mode & 16) && typeof value.then === 'function') return value;
/******/ 		}
/******/ 		var ns = Object.create(null);
/******/ 		__nccwpck_require__.r(ns);
/******/ 		var def = {};
/******/ 		leafPrototypes = leafPrototypes || [null, getProto({}), getProto([]), getProto(getProto)];
/******/ 		for(var current = mode & 2 && value; typeof current == 'object' && !~leafPrototypes.indexOf(current); current = getProto(current)) {
/******/ 			Object.getOwnPropertyNames(current).forEach((key) => (def[key] = () => (value[key])));
/******/ 		}
/******/ 		def['default'] = () => (value);
/******/ 		__nccwpck_require__.d(ns, def);
/******/ 		return ns;
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/define property getters */
/******/ (() => {
/******/ 	// define getter functions for harmony exports
/******/ 	__nccwpck_require__.d = (exports, definition) => {
/******/ 		for(var key in definition) {
/******/ 			if(__nccwpck_require__.o(definition, key) && !__nccwpck_require__.o(exports, key)) {
/******/ 				Object.defineProperty(exports, key, { enumerable: true, get: definition[key] });
/******/ 			}
/******/ 		}
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/hasOwnProperty shorthand */
/******/ (() => {
/******/ 	__nccwpck_require__.o = (obj, prop) => (Object.prototype.hasOwnProperty.call(obj, prop))
/******/ })();
/******/ 
/******/ /* webpack/runtime/make namespace object */
/******/ (() => {
/******/ 	// define __esModule on exports
/******/ 	__nccwpck_require__.r = (exports) => {
/******/ 		if(typeof Symbol !== 'undefined' && Symbol.toStringTag) {
/******/ 			Object.defineProperty(exports, Symbol.toStringTag, { value: 'Module' });
/******/ 		}
/******/ 		Object.defineProperty(exports, '__esModule', { value: true });
/******/ 	};
/******/ })();
/******/ 
/************************************************************************/
/******/ 
/******/ // startup
/******/ // Load entry module and return exports
/******/ // This entry module used 'module' so it can't be inlined
/******/ var __webpack_exports__ = __nccwpck_require__(890);
/******/ __webpack_exports__ = await __webpack_exports__;
/******/ 

//# sourceMappingURL=index.js.map