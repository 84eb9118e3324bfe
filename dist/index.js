import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({

/***/ 407:
/***/ ((module, __unused_webpack___webpack_exports__, __nccwpck_require__) => {

__nccwpck_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
/* harmony import */ var _main_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(894);

await (0,_main_js__WEBPACK_IMPORTED_MODULE_0__/* .run */ .e)();

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ }),

/***/ 894:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {


// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  e: () => (/* binding */ run)
});

// UNUSED EXPORTS: defaultDeps

;// CONCATENATED MODULE: external "os"
const external_os_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("os");
;// CONCATENATED MODULE: ./node_modules/@actions/core/lib/utils.js
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
;// CONCATENATED MODULE: ./node_modules/@actions/core/lib/command.js


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
;// CONCATENATED MODULE: ./node_modules/@actions/core/lib/file-command.js
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
;// CONCATENATED MODULE: ./node_modules/@actions/core/lib/core.js
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
;// CONCATENATED MODULE: ./node_modules/@actions/core/lib/summary.js
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
/**
 * Tokens larger than this are refused: Linux refuses to start a process whose environment holds
 * a much larger value (E2BIG), so every later step of the job would fail to start.
 */
const MAX_TOKEN_BYTES = 64 * 1024;
/** The runner's files for outputs, environment variables and the job summary. */
const RunnerFile = { output: 'GITHUB_OUTPUT', env: 'GITHUB_ENV', summary: 'GITHUB_STEP_SUMMARY' };

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
/**
 * Where the action's own code is: dist/ for the bundle, src/ under the tests. Cut from the
 * module's URL by hand: the bundler takes `new URL('.', import.meta.url)` for a file to copy.
 */
const OWN_CODE = new URL(import.meta.url.slice(0, import.meta.url.lastIndexOf('/') + 1));
const MAX_FRAMES = 10;
/**
 * The frames of a stack that are in the action's own code, at most {@link MAX_FRAMES}. Only lines
 * that name that code count: an error's message may hold a server's text over many lines, some of
 * which may look like frames, and Node's own frames say nothing the user can act on.
 */
function ownStackFrames(stack, ownCode = OWN_CODE) {
    const places = [ownCode.href, ownCode.pathname];
    return stack
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line.startsWith('at ') && places.some((place) => line.includes(place)))
        .slice(0, MAX_FRAMES);
}

;// CONCATENATED MODULE: ./src/expiry.ts
/** The last instant a JavaScript Date can hold (ECMA-262: 8.64e15 ms after the epoch). */
const MAX_DATE_MS = 8.64e15;
function tokenExpiry(accessToken, expiresInSeconds, nowMs) {
    // An expires_in too large to be a date (1e300, Go's MaxInt64) says nothing usable: fall back to exp.
    if (expiresInSeconds !== undefined && nowMs + expiresInSeconds * 1000 <= MAX_DATE_MS) {
        return { expiresInSeconds, expiresAt: new Date(nowMs + expiresInSeconds * 1000).toISOString(), alreadyPast: false };
    }
    const exp = jwtExpiry(accessToken);
    if (exp === undefined)
        return undefined;
    return {
        expiresInSeconds: Math.max(0, Math.floor(exp - nowMs / 1000)),
        expiresAt: new Date(exp * 1000).toISOString(),
        alreadyPast: exp * 1000 <= nowMs
    };
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
        return typeof exp === 'number' && Number.isFinite(exp) && exp > 0 && exp * 1000 <= MAX_DATE_MS ? exp : undefined;
    }
    catch {
        return undefined;
    }
}

;// CONCATENATED MODULE: ./src/base-url.ts

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
// Users often paste the token endpoint itself; the action adds it back per generation.
const TOKEN_PATH_SUFFIX = /\/api\/v[12]\/token$/i;
/** The host of a URL as sockets and TLS take it: an IPv6 address without its brackets. */
function bareHost(url) {
    return url.hostname.replace(/^\[|\]$/g, '');
}
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
    const path = withoutTrailingSlashes(withoutTrailingSlashes(url.pathname).replace(TOKEN_PATH_SUFFIX, ''));
    return `${url.protocol}//${url.host}${path}`;
}
/** A loop, not `/\/+$/`: that pattern backtracks over every run of slashes, quadratic in the input. */
function withoutTrailingSlashes(path) {
    let end = path.length;
    while (end > 0 && path[end - 1] === '/')
        end--;
    return path.slice(0, end);
}
/** Echoes an unparseable `url` for the user, unless it might hold a credential. */
function safeEcho(text) {
    return text.includes('@') ? '<hidden: contains @>' : text.slice(0, 200);
}

;// CONCATENATED MODULE: ./src/generations.ts
/**
 * The three generations of Run:ai's token API (docs/runai-token-api.md) and the request each one
 * expects.
 */
const API_VERSION_CHOICES = ['auto', 'v2', 'v1', 'v1-app-token'];
function buildTokenRequest(generation, credentials) {
    switch (generation) {
        case 'v2':
            // OAuth2 client credentials, form-encoded (control planes 2.24+, v3.0, current SaaS).
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
            // 2.20+. The specification spells clientID; the documentation spells clientId, and every public
            // client known to work sends that. Whether the server ignores case is not on record.
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
// Names that change how later steps run (the loader, the C library, shells, interpreters, runtimes
// and tools that read code, options, certificates or servers from the environment), or that the
// runner owns. Windows compares variable names without regard to case, so this does too.
const RESERVED_ENV_NAMES = new Set([
    // the system, the loader and the C library
    'PATH',
    'PATHEXT',
    'COMSPEC',
    'HOME',
    'TMPDIR',
    'GCONV_PATH',
    'GLIBC_TUNABLES',
    'HOSTALIASES',
    'LOCALDOMAIN',
    'RES_OPTIONS',
    'LOCPATH',
    'NLSPATH',
    // shells
    'BASH_ENV',
    'ENV',
    'SHELLOPTS',
    'BASHOPTS',
    'IFS',
    'CDPATH',
    'PROMPT_COMMAND',
    'PS4',
    'ZDOTDIR',
    'PSMODULEPATH',
    // runtimes and build tools that load code or options
    'JAVA_TOOL_OPTIONS',
    'JDK_JAVA_OPTIONS',
    '_JAVA_OPTIONS',
    'CLASSPATH',
    'MAVEN_OPTS',
    'GRADLE_OPTS',
    'RUSTC_WRAPPER',
    'RUSTFLAGS',
    'GOFLAGS',
    'PERLLIB',
    'LUA_INIT',
    'EDITOR',
    'VISUAL',
    'PAGER',
    'LESSOPEN',
    // where tools find certificates, servers and credentials
    'KUBECONFIG',
    'SSL_CERT_FILE',
    'SSL_CERT_DIR',
    'CURL_CA_BUNDLE',
    'REQUESTS_CA_BUNDLE',
    'GNUPGHOME',
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'ALL_PROXY',
    'NO_PROXY'
]);
const RESERVED_ENV_PREFIXES = [
    'LD_',
    'DYLD_',
    'MALLOC_',
    'OPENSSL_',
    'NODE_',
    'NPM_CONFIG_',
    'GIT_',
    'SSH_',
    'PYTHON',
    'PIP_',
    'PERL5',
    'RUBY',
    'DOTNET_',
    'CORECLR_',
    'COMPLUS_',
    'POWERSHELL_',
    'DOCKER_',
    'XDG_',
    'GITHUB_',
    'RUNNER_',
    'ACTIONS_'
];
function isReservedEnvName(name) {
    const upper = name.toUpperCase();
    return RESERVED_ENV_NAMES.has(upper) || RESERVED_ENV_PREFIXES.some((prefix) => upper.startsWith(prefix));
}
function parseEnvName(value) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
        throw new InputError(`Input \`${Input.envName}\` must be a valid environment variable name (letters, digits and _, not starting with a digit); got "${value.slice(0, 60)}".`);
    }
    if (isReservedEnvName(value)) {
        throw new InputError(`Input \`${Input.envName}\` must not be ${value}: PATH, BASH_ENV, LD_*, NODE_*, OPENSSL_*, DOTNET_*, CLASSPATH, KUBECONFIG and the like change how later steps run, and GITHUB_*, RUNNER_* and ACTIONS_* belong to the runner. Use a name such as RUNAI_TOKEN.`);
    }
    return value;
}

;// CONCATENATED MODULE: ./src/log-boundary.ts
/**
 * The one place every line the action prints goes through. The runner reads each stdout line as a
 * workflow command twice (`::name::data` at the start of a line after whitespace, and the older
 * `##[name]data` anywhere in it) and masks only whole registered values. Server text, Node's error
 * messages and anything else the action quotes are therefore hostile: they could stop command
 * processing, register or clear masks, or carry part of a secret past a cut. In this order, each
 * line is redacted from its raw text, neutralised, and only then shortened.
 */
// Untrusted spans are marked with two private-use characters so that they can be shortened after
// redaction and neutralisation, and not before.
const OPEN = '\uE000';
const CLOSE = '\uE001';
const MARKERS = /[\uE000\uE001]/g;
const SPAN = /\uE000([^\uE001]*)\uE001/g;
/** Runs this long of a masked value are hidden too: the runner masks whole values only. */
const MIN_HIDDEN_RUN = 8;
/** Longest piece of quoted text printed; longer ones are cut, after redaction. */
const MAX_QUOTED_CHARS = 200;
const REDACTED = '***';
/**
 * Control, format and default-ignorable characters (\p{Cc}, \p{Cf}, \p{Default_Ignorable_Code_Point}
 * as Node's Unicode tables have them; a test compares every code point), spelt out, so that no
 * start of the action compiles Unicode property tables.
 */
const INVISIBLE = 
// eslint-disable-next-line no-control-regex, no-misleading-character-class -- control characters are the point, and each is escaped on its own
/[\x00-\x1f\x7f-\x9f\xad\u034f\u061c\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\u{110bd}\u{110cd}\u{13430}-\u{1343f}\u{1bca0}-\u{1bca3}\u{1d173}-\u{1d17a}\u{e0000}-\u{e0fff}]/gu;
/** Marks text that came from outside (a server, the network, Node): it is shortened when printed. */
function untrusted(text) {
    return `${OPEN}${text.replace(MARKERS, '\uFFFD')}${CLOSE}`;
}
/**
 * What redaction looks for, built once for a set of masked values: every run of
 * {@link MIN_HIDDEN_RUN} characters of each value, and the values shorter than that whole. A server
 * that echoes half the secret, or the secret cut short, must not get that half into the log.
 */
class Redactor {
    runs = new Set();
    /** The first UTF-16 unit of each run: most positions of a long text start none, and are skipped cheaply. */
    runStarts = new Set();
    whole = [];
    constructor(secrets = []) {
        this.add(secrets);
    }
    /** Looks for these values too. */
    add(secrets) {
        for (const secret of secrets) {
            // Untrusted text has its marker characters replaced; a value holding them is looked for so too.
            for (const variant of new Set([secret, secret.replace(MARKERS, '\uFFFD')]))
                this.addValue(variant);
        }
    }
    addValue(value) {
        if (value.length >= MIN_HIDDEN_RUN) {
            for (let i = 0; i + MIN_HIDDEN_RUN <= value.length; i++) {
                this.runs.add(value.slice(i, i + MIN_HIDDEN_RUN));
                this.runStarts.add(value.charCodeAt(i));
            }
        }
        else if (value !== '') {
            this.whole.push(value);
        }
    }
    /** The text with each stretch of masked characters replaced by `***`. */
    redact(text) {
        const hidden = new Uint8Array(text.length);
        let any = false;
        if (this.runs.size > 0) {
            for (let i = 0; i + MIN_HIDDEN_RUN <= text.length; i++) {
                if (this.runStarts.has(text.charCodeAt(i)) && this.runs.has(text.slice(i, i + MIN_HIDDEN_RUN))) {
                    hidden.fill(1, i, i + MIN_HIDDEN_RUN);
                    any = true;
                }
            }
        }
        for (const value of this.whole) {
            for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + 1)) {
                hidden.fill(1, at, at + value.length);
                any = true;
            }
        }
        if (!any)
            return text;
        // Kept stretches are copied whole: a character at a time costs a string per character.
        let out = '';
        for (let i = 0; i < text.length;) {
            const start = i;
            const state = hidden[i];
            while (i < text.length && hidden[i] === state)
                i++;
            out += state === 0 ? text.slice(start, i) : REDACTED;
        }
        return out;
    }
}
/** Replaces each masked value, and every run of {@link MIN_HIDDEN_RUN} of its characters, with `***`. */
function redact(text, secrets) {
    return new Redactor(secrets).redact(text);
}
/**
 * Takes away every means text has to steer the runner: control characters (ESC, CR, LF…) are
 * shown escaped or, for whitespace, become one space; `##[` anywhere becomes `## [`; a line that
 * would start with `:` gets a backslash in front. Markers of untrusted spans (private-use
 * characters, neither controls nor format characters) pass unchanged.
 */
function neutralise(text) {
    return text
        .replace(/[\s\u2028\u2029]+/g, ' ')
        .replace(INVISIBLE, escapeInvisible)
        .replace(/##\[/g, '## [')
        .replace(/^(\s*):/, '$1\\:');
}
// A megabyte of control characters is a million replacements: each escape is spelt only once.
const ESCAPES = new Map();
function escapeInvisible(c) {
    let escaped = ESCAPES.get(c);
    if (escaped === undefined) {
        const code = Number(c.codePointAt(0));
        escaped = code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
        ESCAPES.set(c, escaped);
    }
    return escaped;
}
/**
 * Ends a message that may end in untrusted text with exactly one full stop. A loop, not a regular
 * expression: `/\.+$/` backtracks over every run of dots that does not end the text, which is
 * quadratic in a server's answer of dots and froze the step for minutes (no timer fires meanwhile).
 */
function sentence(text) {
    const close = text.endsWith(CLOSE) ? CLOSE : '';
    let end = text.length - close.length;
    while (end > 0 && text[end - 1] === '.')
        end--;
    return `${text.slice(0, end)}${close}.`;
}
/** Shortens text to `max` characters, marking the cut. */
function clip(text, max = MAX_QUOTED_CHARS) {
    return text.length > max ? `${text.slice(0, max)}…` : text;
}
/**
 * One printable line from a message that may hold untrusted spans: redacted, neutralised, each
 * untrusted span shortened, markers removed, then neutralised and redacted once more.
 */
function printableLine(message, secrets) {
    const redactor = secrets instanceof Redactor ? secrets : new Redactor(secrets);
    const neutral = neutralise(redactor.redact(message));
    const shortened = neutral.replace(SPAN, (_, span) => clip(span.trim())).replace(MARKERS, '');
    // Once more, both: the joins between spans could form `##[`, and collapsing whitespace or
    // escaping a character could turn text into a masked value (a secret with tabs, or with `\u00ad`).
    return redactor.redact(neutralise(shortened));
}
/**
 * A value as it is, and as a server would echo it from a form body, a URL, a JSON string or an
 * Authorization header (base64 at each of the three byte offsets, trimmed of the characters that
 * depend on its neighbours). The runner masks some of these itself, not all.
 */
function encodings(value) {
    const base64 = (prefix) => {
        const encoded = Buffer.from(prefix + value).toString('base64');
        return encoded.slice(prefix === '' ? 0 : prefix.length + 2, encoded.length - 3);
    };
    const forms = [
        value,
        encodeURIComponent(value),
        // application/x-www-form-urlencoded, as URLSearchParams writes it (which costs a run 0.5 ms to load).
        encodeURIComponent(value)
            .replace(/%20/g, '+')
            .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
        JSON.stringify(value).slice(1, -1),
        base64(''),
        base64('.'),
        base64('..')
    ];
    return [...new Set(forms)].filter((form) => form.length >= MIN_HIDDEN_RUN || form === value);
}
/** Shortest value sent to the runner as a mask: it masks a value in every later line of the job. */
const MIN_RUNNER_MASK = 8;
/**
 * What of a value can go to the runner in `::add-mask::`. The runner splits a mask on CR and LF,
 * trims each line and masks every non-empty one, however short, for the rest of the job: so each
 * line goes on its own, trimmed, and only when it is {@link MIN_RUNNER_MASK} characters or more.
 * The log boundary redacts the whole value either way.
 */
function runnerMasks(value) {
    return value
        .split(/\r\n|\r|\n/)
        .map((line) => line.trim())
        .filter((line) => line.length >= MIN_RUNNER_MASK);
}
/**
 * Prints through `sinks` only what {@link printableLine} made of a message, redacted against every
 * value registered with {@link LogBoundary.addSecret} by the time the line is printed. While
 * holding, lines wait: a server may put a token into an early answer and issue it later, and the
 * line quoting that answer must not be printed before the token is known and masked.
 */
class LogBoundary {
    sinks;
    redactor = new Redactor();
    held;
    constructor(sinks) {
        this.sinks = sinks;
    }
    /** A value to hide: a token the server issued. */
    addSecret(value) {
        this.add(value === '' ? [] : [value]);
    }
    /** A value the action sends (the client secret, a proxy password): a server that echoes the request may quote it encoded. */
    addRequestSecret(value) {
        this.add(value === '' ? [] : encodings(value));
    }
    add(forms) {
        this.redactor.add(forms);
    }
    info(message) {
        this.print(this.sinks.info, message);
    }
    debug(message) {
        this.print(this.sinks.debug, message);
    }
    warning(message) {
        this.print(this.sinks.warning, message);
    }
    error(message) {
        this.print(this.sinks.error, message);
    }
    /** The same treatment for text that is not printed but stored, such as the job summary. */
    render(message) {
        return printableLine(message, this.redactor);
    }
    hold() {
        this.held ??= [];
    }
    /** Prints the held lines, each redacted against the secrets known now. */
    release() {
        const held = this.held ?? [];
        this.held = undefined;
        for (const print of held)
            print();
    }
    print(sink, message) {
        const print = () => sink(this.render(message));
        if (this.held === undefined)
            print();
        else
            this.held.push(print);
    }
}

;// CONCATENATED MODULE: ./node_modules/@actions/http-client/lib/proxy.js
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
;// CONCATENATED MODULE: ./src/proxy-settings.ts


const proxy_settings_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/**
 * The proxy for a control-plane URL: HTTPS_PROXY (or https_proxy), unless NO_PROXY names the host,
 * as @actions/http-client decides it. Plain http goes only to loopback, which is never proxied.
 * A value without a scheme (`proxy.corp:3128`, as curl takes it) means http://. A value that
 * cannot be read is an error: going direct instead would bypass the proxy the user set.
 */
function proxyFor(target, env = process.env) {
    const raw = env.https_proxy || env.HTTPS_PROXY;
    if (!raw || target.protocol !== 'https:' || checkBypass(target))
        return undefined;
    // Never echo the value: it may carry a password.
    const unreadable = (why) => new ActionError(`HTTPS_PROXY is set but ${why}. Set it to http://[user:password@]host:port (or https://…), or list the control plane's host in NO_PROXY.`);
    let url;
    try {
        url = new URL(proxy_settings_SCHEME.test(raw) ? raw : `http://${raw}`);
    }
    catch {
        throw unreadable('is not a URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw unreadable(`uses ${url.protocol.slice(0, 20)}, which the action does not support`);
    try {
        return { url, username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    }
    catch {
        throw unreadable('its user name or password is not validly percent-encoded');
    }
}

;// CONCATENATED MODULE: ./src/transport-error.ts

/** A request that got no usable HTTP answer. Whether trying again may help is retry.ts's call. */
class TransportError extends Error {
    kind;
    peer;
    status;
    name = 'TransportError';
    constructor(message, kind, peer, 
    /** The proxy's HTTP status, for `proxy-refused`. */
    status) {
        super(message);
        this.kind = kind;
        this.peer = peer;
        this.status = status;
    }
}
// Node's names for OpenSSL's verification failures (X509_V_ERR_*), and its own for a host name the
// certificate does not cover. OpenSSL's security-level refusals (a key or a digest too weak) have
// no name in Node and arrive as UNSPECIFIED, with OpenSSL's reason as the message.
const CERTIFICATE_CODES = new Set([
    'UNABLE_TO_GET_ISSUER_CERT',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
    'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'CERT_SIGNATURE_FAILURE',
    'CERT_NOT_YET_VALID',
    'CERT_HAS_EXPIRED',
    'ERROR_IN_CERT_NOT_BEFORE_FIELD',
    'ERROR_IN_CERT_NOT_AFTER_FIELD',
    'CERT_CHAIN_TOO_LONG',
    'CERT_REVOKED',
    'INVALID_CA',
    'PATH_LENGTH_EXCEEDED',
    'INVALID_PURPOSE',
    'CERT_UNTRUSTED',
    'CERT_REJECTED',
    'HOSTNAME_MISMATCH',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'UNSPECIFIED'
]);
const DNS_CODES = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME']);
const PRIVATE_CA_HINT = 'If it comes from a private CA, pass that CA in `ca-certificate` (PEM text or a file path) or point NODE_EXTRA_CA_CERTS at it.';
const WEAK_CERTIFICATE_HINT = 'Node 24, which runs this action, refuses RSA keys under 2048 bits and SHA-1 signatures: the certificate has to be reissued with an RSA key of 2048 bits or more (or ECDSA) and a SHA-256 signature.';
/** Turns a Node request error into a sentence for the user that names the failing end and what to do. */
function classifyRequestError(error, peer) {
    if (error instanceof TransportError)
        return error;
    const err = error;
    const code = err.code ?? '';
    const reason = untrusted(err.message);
    const whose = peer.role === 'proxy' ? `the proxy ${peer.label} (from HTTPS_PROXY)` : peer.label;
    if (CERTIFICATE_CODES.has(code)) {
        return new TransportError(`the TLS certificate of ${whose} was refused: ${reason} (${code}). ${certificateHint(code, err.message)}`, 'certificate', peer.role);
    }
    if (DNS_CODES.has(code)) {
        const fix = peer.role === 'proxy' ? 'check HTTPS_PROXY' : 'check `url`, and behind a proxy set HTTPS_PROXY';
        return new TransportError(`the host of ${whose} could not be found (DNS lookup failed); ${fix}.`, 'dns', peer.role);
    }
    if (code === 'EPROTO' || code.startsWith('ERR_SSL_')) {
        return new TransportError(`could not agree on TLS with ${whose}: ${reason}. Check that it speaks https on that port.`, 'tls', peer.role);
    }
    const detail = code !== '' && !err.message.includes(code) ? `${code} (${reason})` : reason;
    return new TransportError(`could not talk to ${whose}: ${detail}.`, 'connection', peer.role);
}
function certificateHint(code, message) {
    if (/too weak|too small/i.test(message))
        return WEAK_CERTIFICATE_HINT;
    if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')
        return "Check the certificate's dates and the runner's clock.";
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') {
        return 'Use the host name the certificate is issued for.';
    }
    return PRIVATE_CA_HINT;
}

;// CONCATENATED MODULE: ./src/retry.ts




const systemClock = {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: () => Math.random()
};
const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 20_000;
// Overload and outage answers of a server or a gateway in front of it.
const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);
/** The one place that answers "is another attempt worth it?". */
function worthRetrying(outcome) {
    if (outcome.kind === 'answer')
        return RETRYABLE_STATUSES.has(outcome.status);
    const { error } = outcome;
    switch (error.kind) {
        case 'timeout':
        case 'connection':
        case 'truncated':
            return true;
        case 'proxy-refused':
            // 502/503/504 from a proxy: it could not reach the control plane this time.
            return (error.status ?? 0) >= 500;
        default:
            // DNS, certificates, TLS and oversized answers come out the same on every attempt.
            return false;
    }
}
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
/**
 * Calls `attempt` until its answer is not worth retrying, and returns that answer. Failures that
 * are not worth retrying, running out of attempts and running out of time end in an ActionError
 * that says why, what the last attempt met, and what to do.
 */
async function withRetries(where, attempt, limits, clock, debug) {
    for (let count = 1;; count++) {
        let outcome;
        let problem;
        let retryAfterMs;
        try {
            const answered = await attempt(Math.min(MAX_ATTEMPT_MS, limits.deadline - clock.now()));
            outcome = { kind: 'answer', status: answered.status };
            if (!worthRetrying(outcome))
                return answered.value;
            problem = answered.problem;
            retryAfterMs = parseRetryAfter(answered.retryAfter, clock.now());
        }
        catch (error) {
            if (!(error instanceof TransportError))
                throw error;
            outcome = { kind: 'failure', error };
            if (!worthRetrying(outcome))
                throw new ActionError(`Could not get a Run:ai token from ${where}: ${error.message}`);
            problem = error.message;
        }
        const spentSeconds = Math.round((limits.timeoutMs - (limits.deadline - clock.now())) / 1000);
        const givingUp = sentence(`Could not get a Run:ai token from ${where} after ${count} attempt(s) in ${spentSeconds} s; the last one failed with ${problem}`);
        const { cause, fix } = diagnosis(outcome);
        if (count >= limits.maxAttempts)
            throw new ActionError(`${givingUp} ${cause}; ${fix}, or raise \`max-attempts\`.`);
        const delay = retryDelayMs(count, retryAfterMs, () => clock.random());
        if (clock.now() + delay >= limits.deadline) {
            const timeout = `\`timeout-seconds\` (${limits.timeoutMs / 1000})`;
            if (retryAfterMs !== undefined && clock.now() + retryAfterMs >= limits.deadline) {
                throw new ActionError(`${givingUp} The control plane asked to wait ${Math.ceil(retryAfterMs / 1000)} s before the next attempt (Retry-After), more than ${timeout} leaves; try again later, or raise \`timeout-seconds\`.`);
            }
            throw new ActionError(`${givingUp} ${timeout} leaves no time for another attempt. ${cause}; ${fix}, or raise \`timeout-seconds\`.`);
        }
        debug(`${sentence(`Attempt ${count} of ${limits.maxAttempts} at ${where} failed with ${problem}`)} Retrying in ${delay} ms.`);
        await clock.sleep(delay);
    }
}
/** What a retryable outcome that kept coming back says about the cause, and what the user can do. */
function diagnosis(outcome) {
    if (outcome.kind === 'answer') {
        return outcome.status === 429
            ? { cause: 'The control plane kept limiting requests (HTTP 429)', fix: 'try again later' }
            : { cause: 'The control plane may be down or overloaded', fix: 'try again later' };
    }
    if (outcome.error.peer === 'proxy') {
        return {
            cause: 'The proxy in HTTPS_PROXY did not carry the request',
            fix: 'check that it is up and reachable from the runner, or list the control plane in NO_PROXY'
        };
    }
    if (outcome.error.kind === 'timeout') {
        return { cause: 'No answer came in time', fix: 'check that `url` is reachable from the runner (firewall, HTTPS_PROXY/NO_PROXY)' };
    }
    return {
        cause: 'The connection to the control plane kept failing',
        fix: 'check that `url` is reachable from the runner and try again later'
    };
}

;// CONCATENATED MODULE: external "node:fs"
const external_node_fs_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");
;// CONCATENATED MODULE: external "node:crypto"
const external_node_crypto_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:crypto");
;// CONCATENATED MODULE: ./src/tls-trust.ts




const PEM_BEGIN = '-----BEGIN CERTIFICATE-----';
const PEM_END = '-----END CERTIFICATE-----';
/**
 * The PEM certificate blocks of a text, in order. A scan with indexOf, not a lazy regular
 * expression: `BEGIN[\s\S]+?END` runs to the end of the text from every BEGIN without an END,
 * quadratic in a file of BEGIN lines.
 */
function pemCertificates(text) {
    const blocks = [];
    for (let from = 0;;) {
        const begin = text.indexOf(PEM_BEGIN, from);
        if (begin === -1)
            return blocks;
        const end = text.indexOf(PEM_END, begin + PEM_BEGIN.length + 1);
        if (end === -1)
            return blocks;
        blocks.push(text.slice(begin, end + PEM_END.length));
        from = end + PEM_END.length;
    }
}
const readUtf8 = (path) => (0,external_node_fs_namespaceObject.readFileSync)(path, 'utf8');
/**
 * The TLS context of a run when `ca-certificate` is set: Node's default trust with the given CAs
 * added, never replaced. Adding to a context's store makes Node copy its shared store (bundled
 * roots, and since 22.15 NODE_EXTRA_CA_CERTS and the system store under `--use-system-ca`) in a
 * few milliseconds; a `ca` option would parse every root again instead (25 to 65 ms a run).
 * Where that call is missing, the documented way: a `ca` list of Node's defaults and the given CAs.
 */
async function trustedContext(givenCa, env = process.env, tlsModule, readFile = readUtf8) {
    const node = tlsModule ?? (await Promise.resolve(/* import() */).then(__nccwpck_require__.t.bind(__nccwpck_require__, 692, 23)));
    const hasDefaultList = typeof node.getCACertificates === 'function';
    // Before 22.15 (Node 20), NODE_EXTRA_CA_CERTS is in neither the copied store nor the root list.
    const fromEnv = !hasDefaultList && env.NODE_EXTRA_CA_CERTS ? readOptional(env.NODE_EXTRA_CA_CERTS, readFile) : [];
    const context = node.createSecureContext();
    const store = context.context;
    if (typeof store?.addCACert === 'function') {
        for (const pem of [...fromEnv, ...givenCa])
            store.addCACert(pem);
        return context;
    }
    const defaults = node.getCACertificates?.('default') ?? [...node.rootCertificates, ...fromEnv];
    return node.createSecureContext({ ca: [...defaults, ...givenCa] });
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
    const blocks = pemCertificates(pem);
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
        return pemCertificates(readFile(path));
    }
    catch {
        return []; // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS; so do we, by ignoring it.
    }
}

;// CONCATENATED MODULE: ./src/token-answer.ts

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
// RFC 6750's b64token: what an Authorization header can carry, and nothing a shell or a tool that
// reads a variable could take for code (no quotes, `;`, `$`, spaces or parentheses).
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
// Refresh or ID tokens shorter than this are not looked for at all: hiding every "e" of the log
// would make it unreadable, and a value that short protects nothing. They are never printed or
// handed on anyway.
const MIN_REDACTED_TOKEN = 8;
/** Real Run:ai access tokens are JWTs of hundreds of characters; anything this short is not one. */
const MIN_ACCESS_TOKEN_CHARS = 16;
function interpretAnswer(answer) {
    const { status } = answer;
    const fields = parseJsonObject(answer.body);
    const reason = fields === undefined ? undefined : errorReason(fields);
    const detail = describeStatus(status, reason);
    if (status >= 300 && status < 400) {
        return { kind: 'redirect', status, location: answer.location ?? '', detail, plain: `HTTP ${status}` };
    }
    if (fields === undefined && looksLikeWebPage(answer)) {
        return own({ kind: 'web-page', status, detail: `HTTP ${status} with a web page (HTML) instead of JSON` });
    }
    if (fields === undefined) {
        return own({ kind: 'other', status, detail: `HTTP ${status} with a body that is not JSON`, json: false });
    }
    if (status >= 200 && status < 300) {
        const accessToken = stringField(fields, ACCESS_TOKEN_KEYS);
        if (accessToken === undefined) {
            return own({ kind: 'other', status, detail: `HTTP ${status} without an access token in the answer`, json: true });
        }
        if (!BEARER_TOKEN.test(accessToken)) {
            return own({ kind: 'other', status, detail: `HTTP ${status} with an access token that is not a bearer token (RFC 6750)`, json: true });
        }
        if (accessToken.length < MIN_ACCESS_TOKEN_CHARS) {
            return own({
                kind: 'other',
                status,
                detail: `HTTP ${status} with an access token of ${accessToken.length} characters, too short to be a Run:ai token`,
                json: true
            });
        }
        const otherTokens = OTHER_TOKEN_KEYS.map((k) => stringField(fields, [k])).filter((t) => t !== undefined && t.length >= MIN_REDACTED_TOKEN);
        const expiresInSeconds = positiveNumberField(fields, EXPIRES_IN_KEYS);
        return { kind: 'token', grant: { accessToken, otherTokens, ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }) } };
    }
    // RFC 6749 5.2: a token endpoint that judged the request answers 400 or 401 with one of these
    // codes. A 404 with {"error": "Not Found"} (as many web frameworks answer) is no such verdict.
    const error = fields.get('error');
    // A field of the wrong type counts as absent: String() of a server's object or array would run
    // its toString (an object's own key) or recurse through any depth of nesting.
    if ((status === 400 || status === 401) && typeof error === 'string' && OAUTH2_ERROR_CODES.has(error)) {
        return { kind: 'oauth-error', status, detail, plain: `HTTP ${status} with an OAuth2 error` };
    }
    return { kind: 'other', status, detail, plain: `HTTP ${status}`, json: true };
}
/** A verdict in the action's own words only: its plain form is its detail. */
function own(verdict) {
    return { ...verdict, plain: verdict.detail };
}
/**
 * A JSON object with its keys lower-cased. The documentation and the OpenAPI specification spell
 * the same fields differently (`accessToken`, `expiresIn`; `access_token`), so answers are read
 * without regard to case.
 */
// Statuses with which a v1 endpoint refuses a grant: a bad field (400, 422) or credentials it did not accept.
const V1_REFUSAL_STATUSES = new Set([400, 401, 403, 422]);
/**
 * The one answer to "did this answer judge the credentials?", which decides both whether `auto`
 * tries another generation and what the final message tells the user to check. At v2 only an
 * OAuth2 error body counts: a control plane without v2 answers its unknown path with a 401 or 404
 * of its own. At v1 any JSON refusal counts, as NVIDIA's professional services' scripts read it.
 */
function judgedCredentials(generation, verdict) {
    if (verdict.kind === 'oauth-error')
        return true;
    return generation !== 'v2' && verdict.kind === 'other' && verdict.json && V1_REFUSAL_STATUSES.has(verdict.status);
}
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
/** `error: error_description` (OAuth2) or `message (details)` (v1), as the server wrote it: untrusted. */
function errorReason(fields) {
    const text = (key) => {
        const v = fields.get(key);
        return typeof v === 'string' && v.trim() !== '' ? v : undefined;
    };
    const error = text('error');
    if (error !== undefined) {
        const description = text('error_description');
        return untrusted(description === undefined ? error : `${error}: ${description}`);
    }
    const message = text('message');
    if (message !== undefined) {
        const details = text('details');
        return untrusted(details === undefined ? message : `${message} (${details})`);
    }
    return undefined;
}
function describeStatus(status, reason) {
    return reason === undefined ? `HTTP ${status}` : `HTTP ${status}: ${reason}`;
}
function looksLikeWebPage(answer) {
    return /html/i.test(answer.contentType) || /^\s*</.test(answer.body);
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
        const outcome = await requestFromGeneration(endpoint, request, settings, deps, deadline);
        if ('accessToken' in outcome)
            return outcome;
        refusals.push({ generation, endpoint, verdict: outcome });
        const next = settings.apiVersion === 'auto' ? nextGeneration(generation, outcome) : 'stop';
        if (next === 'stop')
            throw new ActionError(describeRefusals(refusals, settings));
        // The plain line carries only the status: problem matchers read plain lines, and a server's
        // text there could become an annotation. What the server said goes to the debug log.
        deps.info(`${endpoint} answered ${outcome.plain}; trying api-version ${next}.`);
        if (outcome.detail !== outcome.plain)
            deps.debug(sentence(`${endpoint} answered ${outcome.detail}`));
        generation = next;
    }
}
/** The negotiation table of `auto` (README: "Pinning the API generation"). */
function nextGeneration(generation, verdict) {
    const judged = judgedCredentials(generation, verdict);
    // v2 that judged the credentials exists here; anything else means no v2 here.
    if (generation === 'v2')
        return judged ? 'stop' : 'v1';
    // 2.18 and 2.19 know only app_token, and what they answer to client_credentials is not on
    // record: a refusal at v1 may mean either, so it moves on; anything else ends the negotiation.
    if (generation === 'v1' && judged)
        return 'v1-app-token';
    return 'stop';
}
/** One generation's request, retried as retry.ts decides; its final answer as a verdict. */
async function requestFromGeneration(endpoint, request, settings, deps, deadline) {
    const verdict = await withRetries(endpoint, async (timeoutMs) => {
        const answer = await deps.send({
            url: endpoint,
            contentType: request.contentType,
            body: request.body,
            userAgent: USER_AGENT,
            timeoutMs
        });
        const value = interpretAnswer(answer);
        // Masked the moment it is read, before anything else can print it.
        if (value.kind === 'token')
            [value.grant.accessToken, ...value.grant.otherTokens].forEach(deps.mask);
        return { value, status: answer.status, problem: value.kind === 'token' ? '' : value.detail, retryAfter: answer.retryAfter };
    }, { maxAttempts: settings.maxAttempts, timeoutMs: settings.timeoutMs, deadline }, deps.clock, deps.debug);
    if (verdict.kind === 'token')
        return { ...verdict.grant, generation: request.generation };
    if (verdict.kind === 'redirect')
        throw new ActionError(describeRedirect(endpoint, verdict));
    return verdict;
}
function describeRedirect(endpoint, verdict) {
    let where = 'an address it did not name';
    if (verdict.location !== '') {
        // Shown as the server wrote it, never as parsed: URL parsing lower-cases the host and
        // percent-encodes the path, and a secret echoed there would no longer match its redaction.
        // The query and fragment may carry state: cut at the first ? or #.
        const raw = verdict.location.slice(0, firstIndexOf(verdict.location, '?#'));
        // A path alone is on the same origin, which is the user's own `url`.
        const origin = raw.startsWith('/') && !raw.startsWith('//') ? new URL(endpoint).origin : '';
        where = URL.canParse(verdict.location, endpoint) ? `${origin}${untrusted(raw)}` : 'an address that is not a valid URL';
    }
    return `${endpoint} answered HTTP ${verdict.status}, redirecting to ${where}. Redirects are not followed because the request carries the client secret. Set \`url\` to the Run:ai control-plane address itself (the address of the Run:ai UI, such as https://mycompany.run.ai), not to an address that forwards to it.`;
}
function describeRefusals(refusals, settings) {
    const lastRefusal = refusals[refusals.length - 1];
    if (refusals.every((r) => r.verdict.kind === 'web-page')) {
        return `\`url\` (${settings.baseUrl}) points at a web page, not the Run:ai API: ${refusals.map((r) => r.endpoint).join(' and ')} answered HTML. Set \`url\` to the Run:ai control-plane address (the address of the Run:ai UI, such as https://mycompany.run.ai); a login page or proxy in front of it cannot be used.`;
    }
    const list = refusals.map((r) => `api-version ${r.generation}: POST ${r.endpoint} answered ${r.verdict.detail}`).join('; ');
    if (lastRefusal !== undefined && judgedCredentials(lastRefusal.generation, lastRefusal.verdict)) {
        const oldServerHint = settings.apiVersion === 'v1' ? ' Control planes 2.18 and 2.19 accept only `api-version: v1-app-token`.' : '';
        return `Run:ai refused the request for a token (${list}). Check \`client-id\` and \`client-secret\`: they must be the client ID and a current secret of a service account, access key or application of this control plane.${oldServerHint}`;
    }
    if (settings.apiVersion !== 'auto') {
        return `Could not get a Run:ai token with api-version ${settings.apiVersion} (${list}). Check that \`url\` is the Run:ai control-plane address and that it supports this api-version; \`api-version: auto\` finds the right one.`;
    }
    return `Could not get a Run:ai token from ${settings.baseUrl}; no API generation answered with a token (${list}). Check that \`url\` is the Run:ai control-plane address, and \`client-id\` and \`client-secret\`.`;
}
/** Where the first of `chars` is in `text`, or its length. */
function firstIndexOf(text, chars) {
    for (let i = 0; i < text.length; i++)
        if (chars.includes(text.charAt(i)))
            return i;
    return text.length;
}

;// CONCATENATED MODULE: external "node:http"
const external_node_http_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http");
;// CONCATENATED MODULE: external "node:net"
const external_node_net_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:net");
;// CONCATENATED MODULE: ./src/proxy-tunnel.ts



/**
 * Opens a CONNECT tunnel through an HTTP(S) proxy to `host:port`. TLS to the control plane is then
 * run inside the tunnel by the caller, so the proxy sees neither the secret nor the token, and the
 * caller's CA settings apply end to end. An https:// proxy is verified with the same trust.
 */
async function openTunnel({ url: proxy, username, password }, target, proxyTls, signal) {
    const authority = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
    const headers = { Host: authority };
    if (username !== '' || password !== '') {
        headers['Proxy-Authorization'] = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
    const isHttps = proxy.protocol === 'https:';
    const proxyPort = proxy.port || (isHttps ? '443' : '80');
    const peer = { role: 'proxy', label: `${proxy.hostname}:${proxyPort}` };
    const send = isHttps ? (await Promise.resolve(/* import() */).then(__nccwpck_require__.t.bind(__nccwpck_require__, 708, 23))).request : external_node_http_namespaceObject.request;
    return new Promise((resolve, reject) => {
        const request = send({
            host: bareHost(proxy),
            port: proxyPort,
            method: 'CONNECT',
            path: authority,
            headers,
            agent: false,
            ...(signal === undefined ? {} : { signal }),
            ...(isHttps ? proxyTls : {})
        });
        request.once('connect', (response, socket) => {
            if (response.statusCode === 200) {
                resolve(socket);
                return;
            }
            socket.destroy();
            const status = Number(response.statusCode);
            const hint = status === 407 ? ' The proxy wants credentials: put them in HTTPS_PROXY as http://user:password@proxy:port.' : '';
            reject(new TransportError(`the proxy ${peer.label} (from HTTPS_PROXY) refused to open a tunnel to ${authority} (HTTP ${status}).${hint}`, 'proxy-refused', 'proxy', status));
        });
        request.once('error', (error) => reject(signal?.aborted ? signal.reason : classifyRequestError(error, peer)));
        request.end();
    });
}

;// CONCATENATED MODULE: ./src/transport.ts








// A server that closed an idle kept-alive connection shows up as one of these on the next request.
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
/**
 * POSTs the requests of one run (negotiation steps and retries) over one kept-alive connection,
 * through one CONNECT tunnel when HTTPS_PROXY applies. Redirects are never followed: the body
 * carries the secret.
 */
function createTransport(trust) {
    const sessions = new Map();
    const sessionFor = (target) => {
        let session = sessions.get(target.origin);
        if (session === undefined) {
            session = openSession(target, trust);
            sessions.set(target.origin, session);
        }
        return session;
    };
    const send = async (request) => {
        const target = new URL(request.url);
        return post(request, target, await sessionFor(target), trust);
    };
    const close = () => {
        for (const session of sessions.values())
            void session.then((s) => s.agent.destroy());
        sessions.clear();
    };
    return Object.assign(send, { close });
}
async function openSession(target, trust) {
    const isHttps = target.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1 };
    if (!isHttps)
        return { agent: new external_node_http_namespaceObject.Agent(agentOptions) };
    // Loaded only for https: a plain-http run (loopback: tests, the demo) never uses TLS.
    const [tlsModule, httpsModule] = await Promise.all([Promise.resolve(/* import() */).then(__nccwpck_require__.t.bind(__nccwpck_require__, 692, 23)), Promise.resolve(/* import() */).then(__nccwpck_require__.t.bind(__nccwpck_require__, 708, 23))]);
    const secureContext = trust.extraCa === undefined ? undefined : await trustedContext(trust.extraCa);
    const session = {
        agent: new httpsModule.Agent(agentOptions),
        checkServerIdentity: tlsModule.checkServerIdentity,
        ...(secureContext === undefined ? {} : { secureContext })
    };
    const proxy = proxyFor(target);
    if (proxy !== undefined) {
        // The agent asks for a connection when it has none; this one is TLS inside a CONNECT tunnel, so
        // the proxy sees neither the secret nor the token.
        const connectThroughProxy = (_options, done) => {
            openTunnel(proxy, tunnelEndpoint(target), tlsOptions(bareHost(proxy.url), session, trust), session.signal)
                .then((tunnel) => {
                // `host` names the control plane for the certificate check: without SNI (an IP address in
                // `url`) Node would otherwise check the certificate against the proxy's host.
                const socket = tlsModule.connect({ ...tlsOptions(bareHost(target), session, trust), host: bareHost(target), socket: tunnel });
                socket.once('close', () => tunnel.destroy());
                done(null, socket);
            })
                .catch((error) => done(error));
            return undefined;
        };
        Object.assign(session.agent, { createConnection: connectThroughProxy });
    }
    return session;
}
function tunnelEndpoint(target) {
    return { host: bareHost(target), port: Number(target.port || 443) };
}
/**
 * TLS settings for a connection to `host`: the run's trust, built once, SNI for names, and the
 * certificate checked against `host` itself. Without an explicit check, Node checks against the
 * SNI name, which https.request derives from the Host header when none is given: for an
 * https:// proxy given by address that is the CONNECT target, the control plane's name.
 */
function tlsOptions(host, session, trust) {
    const check = session.checkServerIdentity;
    return {
        rejectUnauthorized: !trust.insecureSkipTlsVerify,
        ...(session.secureContext === undefined ? {} : { secureContext: session.secureContext }),
        // SNI takes names only, not addresses; '' stops Node from deriving one from the Host header.
        servername: (0,external_node_net_namespaceObject.isIP)(host) === 0 ? host : '',
        ...(check === undefined ? {} : { checkServerIdentity: (_name, cert) => check(host, cert) })
    };
}
async function post(request, target, session, trust) {
    const controller = new AbortController();
    const peer = { role: 'control plane', label: target.host };
    const timedOut = new TransportError(`no answer from ${target.host} within ${Math.ceil(request.timeoutMs / 1000)} s.`, 'timeout', 'control plane');
    const timer = setTimeout(() => controller.abort(timedOut), request.timeoutMs);
    session.signal = controller.signal;
    const isHttps = target.protocol === 'https:';
    const options = {
        host: bareHost(target),
        port: Number(target.port || (isHttps ? 443 : 80)),
        path: target.pathname,
        method: 'POST',
        agent: session.agent,
        signal: controller.signal,
        headers: {
            'Content-Type': request.contentType,
            'Content-Length': Buffer.byteLength(request.body),
            Accept: 'application/json',
            'User-Agent': request.userAgent
        },
        ...(isHttps ? tlsOptions(bareHost(target), session, trust) : {})
    };
    const send = isHttps ? (await Promise.resolve(/* import() */).then(__nccwpck_require__.t.bind(__nccwpck_require__, 708, 23))).request : external_node_http_namespaceObject.request;
    return exchange(send, options, request.body, peer, controller)
        .catch((error) => {
        // A kept-alive connection the server closed meanwhile (after a backoff, or at the end of its
        // keep-alive) is not a failed attempt: the same request goes out at once on a fresh one.
        if (error instanceof StaleConnection)
            return exchange(send, options, request.body, peer, controller);
        throw error;
    })
        .catch((error) => {
        throw controller.signal.aborted ? controller.signal.reason : classifyRequestError(error, peer);
    })
        .finally(() => clearTimeout(timer));
}
/** A reused connection that turned out closed; the request goes out again on a fresh one, which cannot be stale. */
class StaleConnection extends Error {
}
function exchange(send, options, body, peer, controller) {
    return new Promise((resolve, reject) => {
        const req = send(options, (res) => {
            const chunks = [];
            let size = 0;
            res.on('data', (chunk) => {
                size += chunk.length;
                if (size > MAX_ANSWER_BYTES) {
                    controller.abort(new TransportError(`the answer from ${peer.label} is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB; a token answer is a few kilobytes, so \`url\` probably does not point at the Run:ai API.`, 'too-large', peer.role));
                    return;
                }
                chunks.push(chunk);
            });
            // A connection that closes before the end of the answer emits 'aborted' (and an error), not 'end'.
            res.once('end', () => {
                resolve({
                    status: Number(res.statusCode),
                    contentType: res.headers['content-type'] ?? '',
                    ...(res.headers.location === undefined ? {} : { location: res.headers.location }),
                    ...(res.headers['retry-after'] === undefined ? {} : { retryAfter: res.headers['retry-after'] }),
                    body: Buffer.concat(chunks).toString('utf8')
                });
            });
            res.once('error', reject);
            res.once('aborted', () => reject(truncated(peer)));
        });
        req.once('error', (error) => {
            reject(req.reusedSocket && STALE_CONNECTION_CODES.has(String(error.code)) ? new StaleConnection(error.message) : error);
        });
        req.end(body);
    });
}
function truncated(peer) {
    return new TransportError(`the connection to ${peer.label} closed before the whole answer arrived.`, 'truncated', peer.role);
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
/**
 * Reads the inputs, gets a token and hands it on; every failure ends in one setFailed sentence.
 * Every line goes out through the log boundary, which redacts each masked value from it.
 */
async function run(deps = defaultDeps) {
    const { core, clock, env } = deps;
    const log = new LogBoundary({ info: core.info, debug: core.debug, warning: core.warning, error: core.setFailed });
    // The log boundary redacts the whole value; the runner gets only the lines it can live with.
    const mask = (value) => {
        log.addSecret(value);
        runnerMasks(value).forEach(core.setSecret);
    };
    const maskSent = (value) => {
        log.addRequestSecret(value);
        runnerMasks(value).forEach(core.setSecret);
    };
    let sender;
    try {
        const read = (name) => core.getInput(name);
        // Masked before anything else runs, under whichever name the secret came.
        for (const name of [Input.clientSecret, Input.appSecret]) {
            const secret = read(name).trim();
            if (secret !== '')
                maskSent(secret);
        }
        const config = parseInputs(read);
        const proxyPassword = proxyFor(new URL(config.baseUrl))?.password;
        if (proxyPassword)
            maskSent(proxyPassword);
        requireRunnerFiles(config, env);
        if (config.insecureSkipTlsVerify) {
            log.warning('insecure-skip-tls-verify is true: the certificates of the Run:ai control plane and of an https:// proxy are not checked, so anyone on the network path could read the client secret and the token. Pass the CA in `ca-certificate` instead.');
        }
        const extraCa = config.caCertificate === '' ? undefined : parseCaInput(config.caCertificate);
        sender = deps.createSender({ insecureSkipTlsVerify: config.insecureSkipTlsVerify, ...(extraCa === undefined ? {} : { extraCa }) });
        log.debug(`Requesting a token from ${config.baseUrl} with api-version ${config.apiVersion}.`);
        // Lines quoting the server wait until the token is known: a server could quote it before issuing it.
        log.hold();
        const issued = await requestToken(config, { send: sender, clock, mask, info: (m) => log.info(m), debug: (m) => log.debug(m) }).finally(() => log.release());
        if (Buffer.byteLength(issued.accessToken) > MAX_TOKEN_BYTES) {
            throw new ActionError(`The token from ${config.baseUrl} is ${Buffer.byteLength(issued.accessToken)} bytes long, more than the ${MAX_TOKEN_BYTES / 1024} KiB an environment variable can safely carry: later steps would fail to start. Check that \`url\` is the Run:ai control plane.`);
        }
        const expiry = tokenExpiry(issued.accessToken, issued.expiresInSeconds, clock.now());
        handOn(core, config, issued, expiry);
        log.info(successMessage(config, issued, expiry));
        if (expiry?.alreadyPast) {
            // The control plane issued it, so it judges the token by its own clock: warn, do not fail.
            log.warning(`The token's expiry time (${expiry.expiresAt}) is already past by the runner's clock (${new Date(clock.now()).toISOString()}): the runner's clock or the control plane's is off. Later steps may be refused with HTTP 401; check both clocks (NTP).`);
        }
        if (config.jobSummary)
            await writeSummary(core, log, env, summaryLine(config, issued, expiry));
    }
    catch (error) {
        log.error(failureMessage(error));
        if (error instanceof Error && error.stack !== undefined && core.isDebug()) {
            const frames = ownStackFrames(error.stack).map(untrusted);
            if (frames.length > 0)
                log.debug(`Where it failed: ${frames.join('; ')}`);
        }
    }
    finally {
        sender?.close();
    }
}
/**
 * Without its file, @actions/core writes an output or a variable to stdout as a command
 * (`::set-output name=token::…`); the token must never go there, so a missing file is an error.
 */
function requireRunnerFiles(config, env) {
    const needed = [RunnerFile.output, ...(config.exportEnv ? [RunnerFile.env] : [])];
    const missing = needed.filter((name) => !env[name]);
    if (missing.length > 0) {
        throw new ActionError(`${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set, so the token could only be handed on as a command on stdout, which this action never does. Run it as a step of a GitHub Actions job (runner 2.297.0 or later)${config.exportEnv ? ', or set `export-env: false`' : ''}.`);
    }
}
/** The summary is a courtesy: the token was already handed on, so a missing file only warns. */
async function writeSummary(core, log, env, line) {
    if (!env[RunnerFile.summary]) {
        log.warning(`${RunnerFile.summary} is not set, so \`job-summary: true\` wrote no summary; the token was handed on as usual.`);
        return;
    }
    try {
        await core.appendSummary(log.render(line));
    }
    catch (error) {
        log.warning(`The job summary could not be written (${untrusted(String(error))}); the token was handed on as usual.`);
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
    return `Run:ai token for client ${codeSpan(config.clientId)} from ${codeSpan(config.baseUrl)} (api-version ${issued.generation}), expires ${expiry?.expiresAt ?? 'at an unknown time'}.`;
}
/**
 * Input text as a Markdown code span: inside one, GitHub's Markdown forms no link (autolinks of
 * https://…, www.… and e-mail addresses included), no image, no HTML and no emphasis. Escaping
 * characters cannot do that: an autolink needs none of them. The fence is one backtick longer
 * than the longest run in the text, with spaces where the text starts or ends with one.
 */
function codeSpan(text) {
    let longest = 0;
    for (let i = 0, run = 0; i < text.length; i++) {
        run = text[i] === '`' ? run + 1 : 0;
        longest = Math.max(longest, run);
    }
    const fence = '`'.repeat(longest + 1);
    const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
    return `${fence}${pad}${text}${pad}${fence}`;
}
function failureMessage(error) {
    if (error instanceof ActionError)
        return error.message;
    const text = untrusted(error instanceof Error ? error.message : String(error));
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
/******/ var __webpack_exports__ = __nccwpck_require__(407);
/******/ __webpack_exports__ = await __webpack_exports__;
/******/ 

//# sourceMappingURL=index.js.map