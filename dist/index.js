// node_modules/@actions/core/lib/command.js
import * as os from "os";

// node_modules/@actions/core/lib/utils.js
function toCommandValue(input) {
  if (input === null || input === void 0) {
    return "";
  } else if (typeof input === "string" || input instanceof String) {
    return input;
  }
  return JSON.stringify(input);
}
function toCommandProperties(annotationProperties) {
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

// node_modules/@actions/core/lib/command.js
function issueCommand(command, properties, message) {
  const cmd = new Command(command, properties, message);
  process.stdout.write(cmd.toString() + os.EOL);
}
var CMD_STRING = "::";
var Command = class {
  constructor(command, properties, message) {
    if (!command) {
      command = "missing.command";
    }
    this.command = command;
    this.properties = properties;
    this.message = message;
  }
  toString() {
    let cmdStr = CMD_STRING + this.command;
    if (this.properties && Object.keys(this.properties).length > 0) {
      cmdStr += " ";
      let first = true;
      for (const key in this.properties) {
        if (this.properties.hasOwnProperty(key)) {
          const val = this.properties[key];
          if (val) {
            if (first) {
              first = false;
            } else {
              cmdStr += ",";
            }
            cmdStr += `${key}=${escapeProperty(val)}`;
          }
        }
      }
    }
    cmdStr += `${CMD_STRING}${escapeData(this.message)}`;
    return cmdStr;
  }
};
function escapeData(s) {
  return toCommandValue(s).replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}
function escapeProperty(s) {
  return toCommandValue(s).replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A").replace(/:/g, "%3A").replace(/,/g, "%2C");
}

// node_modules/@actions/core/lib/file-command.js
import * as crypto from "crypto";
import * as fs from "fs";
import * as os2 from "os";
function issueFileCommand(command, message) {
  const filePath = process.env[`GITHUB_${command}`];
  if (!filePath) {
    throw new Error(`Unable to find environment variable for file command ${command}`);
  }
  if (!fs.existsSync(filePath)) {
    throw new Error(`Missing file at path: ${filePath}`);
  }
  fs.appendFileSync(filePath, `${toCommandValue(message)}${os2.EOL}`, {
    encoding: "utf8"
  });
}
function prepareKeyValueMessage(key, value) {
  const delimiter = `ghadelimiter_${crypto.randomUUID()}`;
  const convertedValue = toCommandValue(value);
  if (key.includes(delimiter)) {
    throw new Error(`Unexpected input: name should not contain the delimiter "${delimiter}"`);
  }
  if (convertedValue.includes(delimiter)) {
    throw new Error(`Unexpected input: value should not contain the delimiter "${delimiter}"`);
  }
  return `${key}<<${delimiter}${os2.EOL}${convertedValue}${os2.EOL}${delimiter}`;
}

// node_modules/@actions/core/lib/core.js
import * as os3 from "os";

// node_modules/@actions/http-client/lib/proxy.js
function checkBypass(reqUrl) {
  if (!reqUrl.hostname) {
    return false;
  }
  const reqHost = reqUrl.hostname;
  if (isLoopbackAddress(reqHost)) {
    return true;
  }
  const noProxy = process.env["no_proxy"] || process.env["NO_PROXY"] || "";
  if (!noProxy) {
    return false;
  }
  let reqPort;
  if (reqUrl.port) {
    reqPort = Number(reqUrl.port);
  } else if (reqUrl.protocol === "http:") {
    reqPort = 80;
  } else if (reqUrl.protocol === "https:") {
    reqPort = 443;
  }
  const upperReqHosts = [reqUrl.hostname.toUpperCase()];
  if (typeof reqPort === "number") {
    upperReqHosts.push(`${upperReqHosts[0]}:${reqPort}`);
  }
  for (const upperNoProxyItem of noProxy.split(",").map((x) => x.trim().toUpperCase()).filter((x) => x)) {
    if (upperNoProxyItem === "*" || upperReqHosts.some((x) => x === upperNoProxyItem || x.endsWith(`.${upperNoProxyItem}`) || upperNoProxyItem.startsWith(".") && x.endsWith(`${upperNoProxyItem}`))) {
      return true;
    }
  }
  return false;
}
function isLoopbackAddress(host) {
  const hostLower = host.toLowerCase();
  return hostLower === "localhost" || hostLower.startsWith("127.") || hostLower.startsWith("[::1]") || hostLower.startsWith("[0:0:0:0:0:0:0:1]");
}

// node_modules/@actions/core/lib/summary.js
import { EOL as EOL3 } from "os";
import { constants, promises } from "fs";
var __awaiter = function(thisArg, _arguments, P, generator) {
  function adopt(value) {
    return value instanceof P ? value : new P(function(resolve) {
      resolve(value);
    });
  }
  return new (P || (P = Promise))(function(resolve, reject) {
    function fulfilled(value) {
      try {
        step(generator.next(value));
      } catch (e) {
        reject(e);
      }
    }
    function rejected(value) {
      try {
        step(generator["throw"](value));
      } catch (e) {
        reject(e);
      }
    }
    function step(result) {
      result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected);
    }
    step((generator = generator.apply(thisArg, _arguments || [])).next());
  });
};
var { access, appendFile, writeFile } = promises;
var SUMMARY_ENV_VAR = "GITHUB_STEP_SUMMARY";
var Summary = class {
  constructor() {
    this._buffer = "";
  }
  /**
   * Finds the summary file path from the environment, rejects if env var is not found or file does not exist
   * Also checks r/w permissions.
   *
   * @returns step summary file path
   */
  filePath() {
    return __awaiter(this, void 0, void 0, function* () {
      if (this._filePath) {
        return this._filePath;
      }
      const pathFromEnv = process.env[SUMMARY_ENV_VAR];
      if (!pathFromEnv) {
        throw new Error(`Unable to find environment variable for $${SUMMARY_ENV_VAR}. Check if your runtime environment supports job summaries.`);
      }
      try {
        yield access(pathFromEnv, constants.R_OK | constants.W_OK);
      } catch (_a) {
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
    const htmlAttrs = Object.entries(attrs).map(([key, value]) => ` ${key}="${value}"`).join("");
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
    return __awaiter(this, void 0, void 0, function* () {
      const overwrite = !!(options === null || options === void 0 ? void 0 : options.overwrite);
      const filePath = yield this.filePath();
      const writeFunc = overwrite ? writeFile : appendFile;
      yield writeFunc(filePath, this._buffer, { encoding: "utf8" });
      return this.emptyBuffer();
    });
  }
  /**
   * Clears the summary buffer and wipes the summary file
   *
   * @returns {Summary} summary instance
   */
  clear() {
    return __awaiter(this, void 0, void 0, function* () {
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
    this._buffer = "";
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
  addRaw(text2, addEOL = false) {
    this._buffer += text2;
    return addEOL ? this.addEOL() : this;
  }
  /**
   * Adds the operating system-specific end-of-line marker to the buffer
   *
   * @returns {Summary} summary instance
   */
  addEOL() {
    return this.addRaw(EOL3);
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
    const attrs = Object.assign({}, lang && { lang });
    const element = this.wrap("pre", this.wrap("code", code), attrs);
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
    const tag = ordered ? "ol" : "ul";
    const listItems = items.map((item) => this.wrap("li", item)).join("");
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
    const tableBody = rows.map((row) => {
      const cells = row.map((cell) => {
        if (typeof cell === "string") {
          return this.wrap("td", cell);
        }
        const { header, data, colspan, rowspan } = cell;
        const tag = header ? "th" : "td";
        const attrs = Object.assign(Object.assign({}, colspan && { colspan }), rowspan && { rowspan });
        return this.wrap(tag, data, attrs);
      }).join("");
      return this.wrap("tr", cells);
    }).join("");
    const element = this.wrap("table", tableBody);
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
    const element = this.wrap("details", this.wrap("summary", label) + content);
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
    const attrs = Object.assign(Object.assign({}, width && { width }), height && { height });
    const element = this.wrap("img", null, Object.assign({ src, alt }, attrs));
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
  addHeading(text2, level) {
    const tag = `h${level}`;
    const allowedTag = ["h1", "h2", "h3", "h4", "h5", "h6"].includes(tag) ? tag : "h1";
    const element = this.wrap(allowedTag, text2);
    return this.addRaw(element).addEOL();
  }
  /**
   * Adds an HTML thematic break (<hr>) to the summary buffer
   *
   * @returns {Summary} summary instance
   */
  addSeparator() {
    const element = this.wrap("hr", null);
    return this.addRaw(element).addEOL();
  }
  /**
   * Adds an HTML line break (<br>) to the summary buffer
   *
   * @returns {Summary} summary instance
   */
  addBreak() {
    const element = this.wrap("br", null);
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
  addQuote(text2, cite) {
    const attrs = Object.assign({}, cite && { cite });
    const element = this.wrap("blockquote", text2, attrs);
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
  addLink(text2, href) {
    const element = this.wrap("a", text2, { href });
    return this.addRaw(element).addEOL();
  }
};
var _summary = new Summary();
var summary = _summary;

// node_modules/@actions/core/lib/core.js
var ExitCode;
(function(ExitCode2) {
  ExitCode2[ExitCode2["Success"] = 0] = "Success";
  ExitCode2[ExitCode2["Failure"] = 1] = "Failure";
})(ExitCode || (ExitCode = {}));
function exportVariable(name, val) {
  const convertedVal = toCommandValue(val);
  process.env[name] = convertedVal;
  const filePath = process.env["GITHUB_ENV"] || "";
  if (filePath) {
    return issueFileCommand("ENV", prepareKeyValueMessage(name, val));
  }
  issueCommand("set-env", { name }, convertedVal);
}
function setSecret(secret) {
  issueCommand("add-mask", {}, secret);
}
function getInput(name, options) {
  const val = process.env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] || "";
  if (options && options.required && !val) {
    throw new Error(`Input required and not supplied: ${name}`);
  }
  if (options && options.trimWhitespace === false) {
    return val;
  }
  return val.trim();
}
function setOutput(name, value) {
  const filePath = process.env["GITHUB_OUTPUT"] || "";
  if (filePath) {
    return issueFileCommand("OUTPUT", prepareKeyValueMessage(name, value));
  }
  process.stdout.write(os3.EOL);
  issueCommand("set-output", { name }, toCommandValue(value));
}
function setFailed(message) {
  process.exitCode = ExitCode.Failure;
  error(message);
}
function isDebug() {
  return process.env["RUNNER_DEBUG"] === "1";
}
function debug(message) {
  issueCommand("debug", {}, message);
}
function error(message, properties = {}) {
  issueCommand("error", toCommandProperties(properties), message instanceof Error ? message.toString() : message);
}
function warning(message, properties = {}) {
  issueCommand("warning", toCommandProperties(properties), message instanceof Error ? message.toString() : message);
}
function info(message) {
  process.stdout.write(message + os3.EOL);
}

// src/constants.ts
var ACTION_NAME = "runai-token-action";
var ACTION_VERSION = "1.0.0";
var USER_AGENT = `${ACTION_NAME}/${ACTION_VERSION}`;
var Input = {
  url: "url",
  clientId: "client-id",
  clientSecret: "client-secret",
  appId: "app-id",
  appSecret: "app-secret",
  apiVersion: "api-version",
  exportEnv: "export-env",
  envName: "env-name",
  timeoutSeconds: "timeout-seconds",
  maxAttempts: "max-attempts",
  caCertificate: "ca-certificate",
  insecureSkipTlsVerify: "insecure-skip-tls-verify",
  jobSummary: "job-summary",
  cluster: "cluster",
  project: "project",
  permission: "permission",
  listClusters: "list-clusters"
};
var Output = {
  token: "token",
  expiresIn: "expires-in",
  expiresAt: "expires-at",
  apiVersion: "api-version",
  url: "url",
  clusterId: "cluster-id",
  clusterName: "cluster-name",
  clusterVersion: "cluster-version",
  projectId: "project-id",
  clusters: "clusters"
};
var InputDefault = {
  [Input.apiVersion]: "auto",
  [Input.exportEnv]: "true",
  [Input.envName]: "RUNAI_TOKEN",
  [Input.timeoutSeconds]: "120",
  [Input.maxAttempts]: "5",
  [Input.insecureSkipTlsVerify]: "false",
  [Input.jobSummary]: "false",
  [Input.listClusters]: "false"
};
var MAX_ANSWER_BYTES = 1024 * 1024;
var MAX_ATTEMPT_MS = 3e4;
var MAX_TOKEN_BYTES = 64 * 1024;
var RunnerFile = { output: "GITHUB_OUTPUT", env: "GITHUB_ENV", summary: "GITHUB_STEP_SUMMARY" };

// src/errors.ts
var ActionError = class extends Error {
  name = "ActionError";
};
var InputError = class extends ActionError {
  name = "InputError";
};
var OWN_CODE = new URL(import.meta.url.slice(0, import.meta.url.lastIndexOf("/") + 1));
var MAX_FRAMES = 10;
function ownStackFrames(error2, ownCode = OWN_CODE) {
  const header = error2.message === "" ? error2.name : error2.name === "" ? error2.message : `${error2.name}: ${error2.message}`;
  const stack = error2.stack ?? "";
  if (!stack.startsWith(header)) return [];
  const places = [ownCode.href, ownCode.pathname];
  return stack.slice(header.length).split("\n").map((line) => line.trim()).filter((line) => line.startsWith("at ") && places.some((place) => line.includes(place))).slice(0, MAX_FRAMES);
}

// src/log-boundary.ts
var OPEN = "\uE000";
var CLOSE = "\uE001";
var MARKERS = /[\uE000\uE001]/g;
var SPAN = /\uE000([^\uE001]*)\uE001/g;
var MIN_HIDDEN_RUN = 8;
var MAX_QUOTED_CHARS = 200;
var REDACTED = "***";
var INVISIBLE = (
  // eslint-disable-next-line no-control-regex, no-misleading-character-class -- control characters are the point, and each is escaped on its own
  /[\x00-\x1f\x7f-\x9f\xad\u034f\u061c\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\u{110bd}\u{110cd}\u{13430}-\u{1343f}\u{1bca0}-\u{1bca3}\u{1d173}-\u{1d17a}\u{e0000}-\u{e0fff}]/gu
);
function untrusted(text2) {
  return `${OPEN}${text2.replace(MARKERS, "\uFFFD")}${CLOSE}`;
}
var Redactor = class {
  runs = /* @__PURE__ */ new Set();
  /** The first UTF-16 unit of each run: most positions of a long text start none, and are skipped cheaply. */
  runStarts = /* @__PURE__ */ new Set();
  whole = [];
  constructor(secrets = []) {
    this.add(secrets);
  }
  /** Looks for these values too. */
  add(secrets) {
    for (const secret of secrets) this.addValue(secret.replace(MARKERS, "\uFFFD"));
  }
  addValue(value) {
    if (value.length >= MIN_HIDDEN_RUN) {
      for (let i = 0; i + MIN_HIDDEN_RUN <= value.length; i++) {
        const run2 = asciiLowerCase(value.slice(i, i + MIN_HIDDEN_RUN));
        this.runs.add(run2);
        this.runStarts.add(run2.charCodeAt(0));
      }
    } else if (value !== "") {
      this.whole.push(value);
    }
  }
  /** The text with each stretch of masked characters replaced by `***`. */
  redact(text2) {
    const hidden = new Uint8Array(text2.length);
    let any = false;
    if (this.runs.size > 0) {
      const folded = asciiLowerCase(text2);
      for (let i = 0; i + MIN_HIDDEN_RUN <= folded.length; i++) {
        if (this.runStarts.has(folded.charCodeAt(i)) && this.runs.has(folded.slice(i, i + MIN_HIDDEN_RUN))) {
          hidden.fill(1, i, i + MIN_HIDDEN_RUN);
          any = true;
        }
      }
    }
    for (const value of this.whole) {
      for (let at = text2.indexOf(value); at !== -1; at = text2.indexOf(value, at + 1)) {
        hidden.fill(1, at, at + value.length);
        any = true;
      }
    }
    if (!any) return text2;
    let out = "";
    for (let i = 0; i < text2.length; ) {
      const start = i;
      const state = hidden[i];
      while (i < text2.length && hidden[i] === state) i++;
      out += state === 0 ? text2.slice(start, i) : REDACTED;
    }
    return out;
  }
};
function asciiLowerCase(text2) {
  return text2.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}
function neutralise(text2) {
  return text2.replace(/[\s\u2028\u2029]+/g, " ").replace(INVISIBLE, escapeInvisible).replace(/##\[/g, "## [").replace(/^(\s*):/, "$1\\:");
}
var ESCAPES = /* @__PURE__ */ new Map();
function escapeInvisible(c) {
  let escaped = ESCAPES.get(c);
  if (escaped === void 0) {
    const code = Number(c.codePointAt(0));
    escaped = code > 65535 ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
    ESCAPES.set(c, escaped);
  }
  return escaped;
}
function sentence(text2) {
  const close = text2.endsWith(CLOSE) ? CLOSE : "";
  let end = text2.length - close.length;
  while (end > 0 && text2[end - 1] === ".") end--;
  return `${text2.slice(0, end)}${close}.`;
}
function clip(text2, max = MAX_QUOTED_CHARS) {
  return text2.length > max ? `${text2.slice(0, max)}\u2026` : text2;
}
function printableLine(message, secrets) {
  const redactor = secrets instanceof Redactor ? secrets : new Redactor(secrets);
  const neutral = neutralise(redactor.redact(message));
  const shortened = neutral.replace(SPAN, (_, span) => clip(span.trim())).replace(MARKERS, "");
  return redactor.redact(neutralise(shortened));
}
function encodings(value) {
  const base64 = (prefix) => {
    const encoded = Buffer.from(prefix + value).toString("base64");
    return encoded.slice(prefix === "" ? 0 : prefix.length + 2, encoded.length - 3);
  };
  const forms = [
    value,
    encodeURIComponent(value),
    // application/x-www-form-urlencoded, as URLSearchParams writes it (which costs a run 0.5 ms to load).
    encodeURIComponent(value).replace(/%20/g, "+").replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    JSON.stringify(value).slice(1, -1),
    base64(""),
    base64("."),
    base64("..")
  ];
  return [...new Set(forms)].filter((form) => form.length >= MIN_HIDDEN_RUN || form === value);
}
var MIN_RUNNER_MASK = 8;
function runnerMasks(value) {
  return value.split(/\r\n|\r|\n/).map((line) => line.trim()).filter((line) => line.length >= MIN_RUNNER_MASK);
}
var LogBoundary = class {
  constructor(sinks) {
    this.sinks = sinks;
  }
  sinks;
  redactor = new Redactor();
  held;
  /** A value to hide: a token the server issued. */
  addSecret(value) {
    this.add(value === "" ? [] : [value]);
  }
  /** A value the action sends (the client secret, a proxy password): a server that echoes the request may quote it encoded. */
  addRequestSecret(value) {
    this.add(value === "" ? [] : encodings(value));
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
    this.held = void 0;
    for (const print of held) print();
  }
  print(sink, message) {
    const print = () => sink(this.render(message));
    if (this.held === void 0 || !message.includes(OPEN)) print();
    else this.held.push(print);
  }
};

// src/transport-error.ts
var TransportError = class extends Error {
  constructor(message, kind, peer, status, extra = {}) {
    super(message);
    this.kind = kind;
    this.peer = peer;
    this.status = status;
    this.plain = extra.plain ?? message;
    this.code = extra.code;
  }
  kind;
  peer;
  status;
  name = "TransportError";
  /** The same in the action's own words only (no text of Node's), for plain log lines. */
  plain;
  /** Node's error code (ECONNREFUSED…), where there is one. */
  code;
};
var ERROR_CODE = /^[A-Z][A-Z0-9_]{1,40}$/;
var CERTIFICATE_CODES = /* @__PURE__ */ new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "UNSPECIFIED"
]);
var DNS_CODES = /* @__PURE__ */ new Set(["ENOTFOUND", "ENODATA", "ENONAME"]);
var PRIVATE_CA_HINT = "If it comes from a private CA, pass that CA in `ca-certificate` (PEM text or a file path) or point NODE_EXTRA_CA_CERTS at it; if the runner's system store trusts it, set `NODE_OPTIONS: --use-system-ca` in the step's `env:` (Node 24 reads that store then).";
var WEAK_CERTIFICATE_HINT = "Node 24, which runs this action, refuses RSA keys under 2048 bits and SHA-1 signatures: the certificate has to be reissued with an RSA key of 2048 bits or more (or ECDSA) and a SHA-256 signature.";
function classifyRequestError(error2, peer) {
  if (error2 instanceof TransportError) return error2;
  const err = error2;
  const code = typeof err.code === "string" && ERROR_CODE.test(err.code) ? err.code : "";
  const reason = untrusted(err.message);
  const whose = peer.role === "proxy" ? `the proxy ${peer.label} (from HTTPS_PROXY)` : peer.label;
  if (CERTIFICATE_CODES.has(code)) {
    return new TransportError(
      `the TLS certificate of ${whose} was refused: ${reason} (${code}). ${certificateHint(code, err.message)}`,
      "certificate",
      peer.role,
      void 0,
      { plain: `the TLS certificate of ${whose} was refused (${code})`, code }
    );
  }
  if (DNS_CODES.has(code)) {
    const fix = peer.role === "proxy" ? "check HTTPS_PROXY" : "check `url`, and behind a proxy set HTTPS_PROXY";
    return new TransportError(`the host of ${whose} could not be found (DNS lookup failed); ${fix}.`, "dns", peer.role);
  }
  if ((code === "EPROTO" || code.startsWith("ERR_SSL_")) && /wrong version number|packet length too long|http request/i.test(err.message)) {
    return new TransportError(
      `${whose} answered in plain http, not TLS: that port does not speak https. Use the https port of the control plane in \`url\` (plain http:// is allowed only for loopback).`,
      "tls",
      peer.role,
      void 0,
      { code }
    );
  }
  if (code === "EPROTO" || code.startsWith("ERR_SSL_")) {
    return new TransportError(
      `could not agree on TLS with ${whose}: ${reason}. Check that it speaks https on that port.`,
      "tls",
      peer.role,
      void 0,
      {
        plain: `could not agree on TLS with ${whose}`,
        code
      }
    );
  }
  const detail = code !== "" && !err.message.includes(code) ? `${code} (${reason})` : reason;
  return new TransportError(`could not talk to ${whose}: ${detail}.`, "connection", peer.role, void 0, {
    plain: code === "" ? `could not talk to ${whose}` : `could not talk to ${whose} (${code})`,
    ...code === "" ? {} : { code }
  });
}
function certificateHint(code, message) {
  if (/too weak|too small/i.test(message)) return WEAK_CERTIFICATE_HINT;
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") return "Check the certificate's dates and the runner's clock.";
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID" || code === "HOSTNAME_MISMATCH") {
    return "Use the host name the certificate is issued for.";
  }
  return PRIVATE_CA_HINT;
}

// src/retry.ts
var systemClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
  after: (ms, run2) => {
    const timer = setTimeout(run2, ms);
    timer.unref();
    return () => clearTimeout(timer);
  }
};
var BACKOFF_BASE_MS = 1e3;
var BACKOFF_CAP_MS = 2e4;
var RATE_LIMIT_JITTER_BASE_MS = 3e3;
var RATE_LIMIT_JITTER_CAP_MS = 6e3;
var RATE_LIMIT_FLOOR_MS = 1e3;
var SLOW_ANSWER_MS = 1e4;
var RETRYABLE_STATUSES = /* @__PURE__ */ new Set([429, 500, 502, 503, 504]);
function worthRetrying(outcome) {
  if (outcome.kind === "answer") return RETRYABLE_STATUSES.has(outcome.status);
  const { error: error2 } = outcome;
  switch (error2.kind) {
    case "timeout":
    case "connection":
    case "truncated":
      return true;
    case "proxy-refused":
      return (error2.status ?? 0) >= 500;
    default:
      return false;
  }
}
function retryDelayMs(attempt, retryAfterMs, random) {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
  if (retryAfterMs === void 0) return Math.floor(random() * ceiling);
  return retryAfterMs + Math.floor(random() * Math.min(ceiling, BACKOFF_BASE_MS));
}
function rateLimitDelayMs(refusals, retryAfterMs, random) {
  const spread = Math.min(RATE_LIMIT_JITTER_CAP_MS, RATE_LIMIT_JITTER_BASE_MS * 2 ** (refusals - 1));
  return (retryAfterMs ?? RATE_LIMIT_FLOOR_MS) + Math.floor(random() * spread);
}
function isRateLimit(status, retryAfterMs) {
  return status === 429 || status === 503 && retryAfterMs !== void 0;
}
function parseRetryAfter(value, nowMs) {
  if (value === void 0) return void 0;
  const text2 = value.trim();
  if (/^\d+$/.test(text2)) return Math.min(Number(text2), 86400) * 1e3;
  if (!/GMT$/i.test(text2)) return void 0;
  const date = Date.parse(text2);
  return Number.isNaN(date) ? void 0 : Math.max(0, date - nowMs);
}
var TOKEN_TASK = "get a Run:ai token";
var seconds = (ms) => `${(ms / 1e3).toFixed(1)} s`;
async function withRetries(where, attempt, limits, clock, log, task = TOKEN_TASK) {
  let failures = 0;
  let rateLimits = 0;
  for (let count = 1; ; count++) {
    let outcome;
    let problem;
    let plainProblem;
    let retryAfterMs;
    const started = clock.now();
    const cancelSlowNotice = clock.after(
      SLOW_ANSWER_MS,
      () => log.progress(`Still waiting for an answer from ${where} after ${SLOW_ANSWER_MS / 1e3} s (attempt ${count}).`)
    );
    try {
      const timeoutMs = Math.min(MAX_ATTEMPT_MS, limits.deadline - started);
      const answered = await attempt(timeoutMs).finally(cancelSlowNotice);
      outcome = { kind: "answer", status: answered.status };
      if (!worthRetrying(outcome)) return answered.value;
      problem = answered.problem;
      plainProblem = answered.plainProblem;
      retryAfterMs = parseRetryAfter(answered.retryAfter, clock.now());
    } catch (error2) {
      if (!(error2 instanceof TransportError)) throw error2;
      outcome = { kind: "failure", error: error2 };
      if (!worthRetrying(outcome)) throw new ActionError(`Could not ${task} from ${where}: ${error2.message}`);
      problem = error2.message;
      plainProblem = error2.plain;
    }
    const pacedByServer = outcome.kind === "answer" && isRateLimit(outcome.status, retryAfterMs);
    if (pacedByServer) rateLimits++;
    else failures++;
    const spentSeconds = Math.round((limits.timeoutMs - (limits.deadline - clock.now())) / 1e3);
    const givingUp = sentence(
      `Could not ${task} from ${where} after ${count} attempt(s) in ${spentSeconds} s; the last one failed with ${problem}`
    );
    const { cause, fix } = diagnosis(outcome, pacedByServer);
    if (!pacedByServer && failures >= limits.maxAttempts) throw new ActionError(`${givingUp} ${cause}; ${fix}, or raise \`max-attempts\`.`);
    let delay = pacedByServer ? rateLimitDelayMs(rateLimits, retryAfterMs, () => clock.random()) : retryDelayMs(failures, retryAfterMs, () => clock.random());
    const floor = retryAfterMs ?? RATE_LIMIT_FLOOR_MS;
    const latest = limits.deadline - clock.now() - BACKOFF_BASE_MS;
    if (pacedByServer && delay > latest && floor <= latest) delay = latest;
    if (clock.now() + delay >= limits.deadline) {
      const timeout = `\`timeout-seconds\` (${limits.timeoutMs / 1e3})`;
      if (retryAfterMs !== void 0 && clock.now() + retryAfterMs >= limits.deadline) {
        const asked = `asked to wait ${Math.ceil(retryAfterMs / 1e3)} s before the next attempt (Retry-After), more than ${timeout} leaves`;
        throw new ActionError(
          pacedByServer ? `${givingUp} ${cause} and ${asked}; ${fix}, or raise \`timeout-seconds\`.` : `${givingUp} The control plane ${asked}; try again later, or raise \`timeout-seconds\`.`
        );
      }
      throw new ActionError(`${givingUp} ${timeout} leaves no time for another attempt. ${cause}; ${fix}, or raise \`timeout-seconds\`.`);
    }
    const which = pacedByServer ? `Attempt ${count}` : `Attempt ${count} of ${limits.maxAttempts}`;
    const then = pacedByServer ? `waiting ${seconds(delay)} as the control plane asks (rate limits are waited out until \`timeout-seconds\`, ${seconds(limits.deadline - clock.now())} left)` : `trying again in ${seconds(delay)}`;
    log.progress(`${sentence(`${which} at ${where} failed with ${plainProblem}`)} ${capitalised(then)}.`);
    if (problem !== plainProblem) log.debug(sentence(`Attempt ${count} at ${where}: ${problem}`));
    await clock.sleep(delay);
  }
}
function capitalised(text2) {
  return `${text2.charAt(0).toUpperCase()}${text2.slice(1)}`;
}
function diagnosis(outcome, pacedByServer) {
  if (outcome.kind === "answer") {
    if (pacedByServer) {
      return {
        cause: `The control plane kept limiting requests (HTTP ${outcome.status})`,
        fix: "try again later, run fewer jobs at once against it (`strategy.max-parallel`)"
      };
    }
    return { cause: "The control plane may be down or overloaded", fix: "try again later" };
  }
  if (outcome.error.peer === "proxy") {
    return {
      cause: "The proxy in HTTPS_PROXY did not carry the request",
      fix: "check that it is up and reachable from the runner, or list the control plane in NO_PROXY"
    };
  }
  if (outcome.error.kind === "timeout") {
    return { cause: "No answer came in time", fix: "check that `url` is reachable from the runner (firewall, HTTPS_PROXY/NO_PROXY)" };
  }
  if (outcome.error.code === "ECONNREFUSED") {
    return {
      cause: "Nothing accepted the connection at that address",
      fix: "check the host and port in `url` (nothing listens there, or a firewall refuses it)"
    };
  }
  return {
    cause: "The connection to the control plane kept failing",
    fix: "check that `url` is reachable from the runner and try again later"
  };
}

// src/deploy-context.ts
var MAX_LISTED = 20;
var MAX_CLUSTERS_OUTPUT = 256;
function wantsDeployContext(request4) {
  return request4.cluster !== "" || request4.project !== "" || request4.permissions.length > 0 || request4.listClusters;
}
async function resolveDeployContext(settings, token, deps) {
  const lookup = lookups(settings, token, deps);
  const context = {};
  if (settings.cluster !== "" || settings.project !== "" || settings.listClusters) {
    context.clusters = await lookup.clusters();
  }
  const clusters = context.clusters ?? [];
  if (settings.cluster !== "") context.cluster = pickCluster(settings.cluster, clusters);
  let target;
  if (settings.project !== "") {
    target = await findProject(settings.project, context.cluster, clusters, lookup);
    context.project = target.project;
    context.cluster = target.cluster;
  }
  if (context.cluster !== void 0 && context.cluster.state !== "Connected") {
    deps.warning(
      `Cluster ${context.cluster.name} is ${context.cluster.state === "" ? "in a state the control plane did not name" : context.cluster.state}, not Connected: a deploy to it may wait in a queue until it connects.`
    );
  }
  for (const [resourceType, actions] of groupByResourceType(settings.permissions)) {
    const scopes = await lookup.permittedScopes(resourceType, actions);
    for (const action of actions) await checkPermission(action, resourceType, scopes[action], context, target, settings, lookup);
  }
  return context;
}
function lookups(settings, token, deps) {
  const get = (path, what, body) => request(settings, token, deps, path, what, body);
  return {
    async clusters() {
      const answer = await get("/api/v1/clusters?verbosity=metadata", "the clusters");
      if (!Array.isArray(answer)) throw new ActionError(notAList("GET /api/v1/clusters", "clusters", settings));
      const listed2 = answer;
      const clusters = listed2.map(clusterOf).filter((c) => c !== void 0);
      if (clusters.length < listed2.length) {
        deps.debug(`${listed2.length - clusters.length} of ${listed2.length} clusters had no valid uuid or name and were left out.`);
      }
      return clusters.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    },
    async projects(filter) {
      const query = filter.length === 0 ? "limit=500" : `filterBy=${encodeURIComponent(filter.join(","))}&limit=500`;
      const answer = await get(`/api/v1/org-unit/projects?${query}`, "the projects");
      if (!isRecord(answer) || !Array.isArray(answer.projects))
        throw new ActionError(notAList("GET /api/v1/org-unit/projects", "projects", settings));
      const listed2 = answer.projects;
      return listed2.map(projectOf).filter((p) => p !== void 0);
    },
    async permittedScopes(resourceType, actions) {
      const body = JSON.stringify(actions.length === 1 ? { resourceType, action: actions[0] } : { resourceType });
      const answer = await get("/api/v1/authorization/permitted-scopes", `where it may ${actions.join(" and ")} ${resourceType}`, body);
      return isRecord(answer) ? answer : {};
    }
  };
}
async function request(settings, token, deps, path, what, body) {
  const url = `${settings.baseUrl}${path}`;
  const method = body === void 0 ? "GET" : "POST";
  const endpoint = `${method} ${settings.baseUrl}${path.replace(/\?.*/s, "")}`;
  const answer = await withRetries(
    endpoint,
    async (timeoutMs) => {
      const answer2 = await deps.send({
        method,
        url,
        ...body === void 0 ? {} : { body, contentType: "application/json" },
        authorization: `Bearer ${token}`,
        userAgent: USER_AGENT,
        timeoutMs
      });
      const said = serverMessage(answer2.body);
      return {
        value: answer2,
        status: answer2.status,
        problem: said === void 0 ? `HTTP ${answer2.status}` : `HTTP ${answer2.status}: ${untrusted(said)}`,
        plainProblem: `HTTP ${answer2.status}`,
        retryAfter: answer2.retryAfter
      };
    },
    { maxAttempts: settings.maxAttempts, timeoutMs: settings.timeoutMs, deadline: settings.deadline },
    deps.clock,
    { progress: deps.info, debug: deps.debug },
    `look up ${what}`
  );
  if (answer.status >= 200 && answer.status < 300) {
    const parsed = parseJson(answer.body);
    if (parsed === void 0)
      throw new ActionError(
        `${endpoint} answered HTTP ${answer.status} with a body that is not JSON; check that \`url\` is the Run:ai control plane.`
      );
    return parsed;
  }
  throw new ActionError(refusal(answer, endpoint, what, settings, path));
}
function refusal(answer, endpoint, what, settings, path) {
  const said = serverMessage(answer.body);
  const quoted = said === void 0 ? "" : `: ${untrusted(said)}`;
  const status = sentence(`${endpoint} answered HTTP ${answer.status}${quoted}`).slice(0, -1);
  if (answer.status === 401) {
    return `${status}. The control plane did not accept the token it had just issued: a gateway or proxy in front of it may drop the Authorization header. Check with whoever runs it.`;
  }
  if (answer.status === 403) {
    return `${status}. The identity ${settings.clientId} has no access rule that lets it read ${what}. In the Run:ai UI, open Access \u2192 Access rules and add one for it, with a role that can view ${what}, scoped to the cluster or project it deploys to.`;
  }
  if (answer.status === 404 && path.startsWith("/api/v1/clusters")) {
    return `${status}. This control plane predates the clusters and projects API (Run:ai 2.18): leave \`cluster\`, \`project\`, \`permission\` and \`list-clusters\` empty against it.`;
  }
  if (answer.status >= 300 && answer.status < 400 && answer.status !== 304) {
    return `${status}, a redirect. Redirects are not followed because the request carries the token. Set \`url\` to the Run:ai control-plane address itself.`;
  }
  return `${status}. Check that \`url\` is the Run:ai control plane.`;
}
function pickCluster(wanted, clusters) {
  const found = UUID.test(wanted) ? clusters.filter((c) => sameId(c.id, wanted)) : clusters.filter((c) => c.name === wanted);
  if (found.length > 1) {
    throw new ActionError(
      `${found.length} clusters this identity sees are named ${JSON.stringify(wanted)}: ${listed(found.map((c) => c.id))}. Set \`cluster\` to the UUID of the one to deploy to.`
    );
  }
  if (found[0] !== void 0) return found[0];
  throw new ActionError(
    `No cluster ${JSON.stringify(wanted)} among the clusters ${clusters.length === 0 ? "this identity sees: it sees none" : `this identity sees: ${listed(clusters.map((c) => c.name))}`}.${caseHint(
      wanted,
      clusters.map((c) => c.name)
    )} Set \`cluster\` to one of them (a name or a UUID), or add an access rule for the cluster.`
  );
}
async function findProject(name, cluster, clusters, lookup) {
  const filter = [`name==${name}`, ...cluster === void 0 ? [] : [`clusterId==${cluster.id}`]];
  const named = (await lookup.projects(filter)).filter((p) => p.name === name);
  const candidates = cluster === void 0 ? clusters : [cluster];
  const matches = named.flatMap(
    (project) => candidates.filter((c) => sameId(c.id, project.clusterId)).map((c) => ({ project, cluster: c }))
  );
  if (matches.length === 0 && cluster === void 0 && named.length > 0) {
    throw new ActionError(
      `Project ${JSON.stringify(name)} is in a cluster this identity does not see (${listed(named.map((p) => p.clusterId))}), so a deploy could not name its cluster. In the Run:ai UI, open Access \u2192 Access rules and give it a role that can view that cluster.`
    );
  }
  const [match, ...others] = matches;
  if (match !== void 0 && others.length === 0) return match;
  if (match !== void 0) {
    throw new ActionError(
      `Project ${JSON.stringify(name)} is in ${matches.length} clusters: ${listed(matches.map((m) => m.cluster.name))}. Set \`cluster\` to the one to deploy to.`
    );
  }
  const where = cluster === void 0 ? "the clusters this identity sees" : `cluster ${cluster.name}`;
  const visible = (await lookup.projects(cluster === void 0 ? [] : [`clusterId==${cluster.id}`])).filter((p) => cluster === void 0 || sameId(p.clusterId, cluster.id)).map((p) => p.name);
  throw new ActionError(
    `No project ${JSON.stringify(name)} in ${where}${visible.length === 0 ? ": this identity sees no project there" : `; the projects this identity sees there: ${listed(visible)}`}.${caseHint(name, visible)} Set \`project\` to one of them, or add an access rule for the project.`
  );
}
async function checkPermission(action, resourceType, answer, context, target, settings, lookup) {
  const scopes = scopesOf(answer);
  const { cluster } = context;
  let allowed;
  let scope;
  if (scopes.system || scopes.tenants.length > 0) {
    allowed = true;
    scope = "";
  } else if (target !== void 0) {
    const { project } = target;
    scope = `project ${project.name} (id ${project.id}) in cluster ${target.cluster.name}`;
    allowed = holds(scopes.projects, project.id) || project.departments.some((d) => holds(scopes.departments, d)) || scopes.clusters.some((c) => sameId(c, project.clusterId));
  } else if (cluster !== void 0) {
    scope = `cluster ${cluster.name}`;
    allowed = scopes.clusters.some((c) => sameId(c, cluster.id));
    if (!allowed && (scopes.projects.length > 0 || scopes.departments.length > 0)) {
      const inCluster = (await lookup.projects([`clusterId==${cluster.id}`])).filter((p) => sameId(p.clusterId, cluster.id));
      allowed = inCluster.some((p) => holds(scopes.projects, p.id) || p.departments.some((d) => holds(scopes.departments, d)));
    }
  } else {
    scope = "anywhere";
    allowed = scopes.clusters.length > 0 || scopes.departments.length > 0 || scopes.projects.length > 0;
  }
  if (allowed) return;
  const seen = context.clusters ?? [];
  const has = [
    // Clusters by the names the identity sees them by; one it does not see, by its id.
    ...scopes.clusters.length > 0 ? [`clusters ${listed(scopes.clusters.map((id) => seen.find((c) => sameId(c.id, id))?.name ?? id))}`] : [],
    ...scopes.departments.length > 0 ? [`departments ${listed(scopes.departments)}`] : [],
    ...scopes.projects.length > 0 ? [`projects ${listed(scopes.projects)}`] : []
  ];
  throw new ActionError(
    `The identity ${settings.clientId} may not ${action} ${resourceType} ${scope === "anywhere" ? scope : `in ${scope}`}: no access rule allows it there; ${has.length === 0 ? "it may do that nowhere" : `it may do that in ${has.join("; ")}`}. In the Run:ai UI, open Access \u2192 Access rules and give it a role that can ${action} ${resourceType}, scoped to the project or cluster it deploys to.`
  );
}
var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
var NAME = /^[\x21-\x7e](?:[\x20-\x7e]{0,251}[\x21-\x7e])?$/;
var VERSION = /^[0-9A-Za-z.+_-]{1,64}$/;
var STATE = /^[A-Za-z]{1,32}$/;
var ID = /^[0-9A-Za-z-]{1,64}$/;
function clusterOf(value) {
  if (!isRecord(value)) return void 0;
  const id = text(value.uuid);
  const name = text(value.name);
  if (!UUID.test(id) || !NAME.test(name)) return void 0;
  const version = text(value.version);
  const state = isRecord(value.status) ? text(value.status.state) : "";
  return { id, name, version: VERSION.test(version) ? version : "", state: STATE.test(state) ? state : "" };
}
function projectOf(value) {
  if (!isRecord(value)) return void 0;
  const id = idOf(value.id);
  const name = text(value.name);
  const clusterId = text(value.clusterId);
  if (id === void 0 || !NAME.test(name) || !UUID.test(clusterId)) return void 0;
  const departments = [];
  const parentId = idOf(value.parentId);
  if (parentId !== void 0) departments.push(parentId);
  let parent = value.parent;
  for (let depth = 0; depth < 16 && isRecord(parent); depth++) {
    const id2 = idOf(parent.id);
    if (id2 !== void 0 && !departments.includes(id2)) departments.push(id2);
    parent = parent.parent;
  }
  return { id, name, clusterId, departments };
}
function scopesOf(value) {
  const entry = isRecord(value) ? value : {};
  const ids = (list) => Array.isArray(list) ? list.map(idOf).filter((id) => id !== void 0) : [];
  const tenant = idOf(entry.tenant);
  return {
    system: entry.system === true,
    tenants: [...ids(entry.tenants), ...tenant === void 0 ? [] : [tenant]],
    clusters: ids(entry.clusters),
    departments: ids(entry.departments),
    projects: ids(entry.projects)
  };
}
function idOf(value) {
  const id = typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? String(value) : text(value);
  return ID.test(id) ? id : void 0;
}
function text(value) {
  return typeof value === "string" ? value : "";
}
function isRecord(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
function parseJson(body) {
  try {
    return JSON.parse(body);
  } catch {
    return void 0;
  }
}
function serverMessage(body) {
  const parsed = parseJson(body);
  return isRecord(parsed) && typeof parsed.message === "string" && parsed.message.trim() !== "" ? parsed.message : void 0;
}
function sameId(a, b) {
  return a.toLowerCase() === b.toLowerCase();
}
function holds(ids, id) {
  return ids.some((candidate) => sameId(candidate, id));
}
function notAList(endpoint, what, settings) {
  return `${endpoint} at ${settings.baseUrl} answered HTTP 200 with something that is not a list of ${what}; check that \`url\` is the Run:ai control plane.`;
}
function groupByResourceType(permissions) {
  const groups = /* @__PURE__ */ new Map();
  for (const { action, resourceType } of permissions) {
    const actions = groups.get(resourceType);
    if (actions === void 0) groups.set(resourceType, [action]);
    else if (!actions.includes(action)) actions.push(action);
  }
  return groups;
}
function listed(names) {
  const sorted = [...new Set(names)].sort();
  const more = sorted.length - MAX_LISTED;
  return `${sorted.slice(0, MAX_LISTED).join(", ")}${more > 0 ? ` and ${more} more` : ""}`;
}
function caseHint(wanted, names) {
  const lower = wanted.toLowerCase();
  const close = names.filter((n) => n !== wanted && n.toLowerCase() === lower);
  return close.length === 0 ? "" : ` Names differ in case: did you mean ${listed(close)}?`;
}

// src/expiry.ts
var MAX_DATE_MS = 864e13;
function tokenExpiry(accessToken, expiresInSeconds, nowMs) {
  if (expiresInSeconds !== void 0 && nowMs + expiresInSeconds * 1e3 <= MAX_DATE_MS) {
    return { expiresInSeconds, expiresAt: new Date(nowMs + expiresInSeconds * 1e3).toISOString(), alreadyPast: false };
  }
  const exp = jwtExpiry(accessToken);
  if (exp === void 0) return void 0;
  return {
    expiresInSeconds: Math.max(0, Math.floor(exp - nowMs / 1e3)),
    expiresAt: new Date(exp * 1e3).toISOString(),
    alreadyPast: exp * 1e3 <= nowMs
  };
}
function jwtExpiry(token) {
  const payload = token.split(".")[1];
  if (payload === void 0 || payload === "") return void 0;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    const exp = claims?.exp;
    return typeof exp === "number" && Number.isFinite(exp) && exp > 0 && exp * 1e3 <= MAX_DATE_MS ? exp : void 0;
  } catch {
    return void 0;
  }
}

// src/base-url.ts
var SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
var TOKEN_PATH_SUFFIX = /\/api\/v[12]\/token$/i;
function bareHost(url) {
  return url.hostname.replace(/^\[|\]$/g, "");
}
function isLoopbackHost(hostname) {
  const host = hostname.toLowerCase();
  return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
function normalizeBaseUrl(raw) {
  const text2 = withoutFragment(raw.trim());
  if (text2 === "") {
    throw new InputError("Input `url` is required: set it to the Run:ai control-plane address, for example https://mycompany.run.ai.");
  }
  const withScheme = SCHEME.test(text2) ? text2 : `https://${text2}`;
  let url;
  try {
    url = new URL(withScheme);
  } catch {
    throw new InputError(
      `Input \`url\` is not a valid URL: "${safeEcho(text2)}". Set it to the Run:ai control-plane address, for example https://mycompany.run.ai.`
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new InputError(
      "Input `url` must not carry credentials (user:password@host). Pass the client ID and secret as `client-id` and `client-secret`."
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new InputError(`Input \`url\` must be an https:// address; "${url.protocol}" is not supported.`);
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    throw new InputError(
      `Input \`url\` uses plain http:// for ${url.hostname}, which would send the client secret unencrypted. Use https:// (plain http is allowed only for loopback hosts, for local testing).`
    );
  }
  if (url.search !== "" || text2.includes("?")) {
    throw new InputError("Input `url` must not contain a query (?\u2026): give the address of the Run:ai UI only.");
  }
  const path = withoutTrailingSlashes(withoutTrailingSlashes(url.pathname).replace(TOKEN_PATH_SUFFIX, ""));
  return `${url.protocol}//${url.host}${path}`;
}
function withoutFragment(text2) {
  const hash = text2.indexOf("#");
  return hash === -1 ? text2 : text2.slice(0, hash);
}
function withoutTrailingSlashes(path) {
  let end = path.length;
  while (end > 0 && path[end - 1] === "/") end--;
  return path.slice(0, end);
}
function safeEcho(text2) {
  return text2.includes("@") ? "<hidden: contains @>" : text2.slice(0, 200);
}

// src/generations.ts
var API_VERSION_CHOICES = ["auto", "v2", "v1", "v1-app-token"];
function buildTokenRequest(generation, credentials) {
  switch (generation) {
    case "v2":
      return {
        generation,
        path: "/api/v2/token",
        contentType: "application/x-www-form-urlencoded",
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: credentials.clientId,
          client_secret: credentials.clientSecret
        }).toString()
      };
    case "v1":
      return v1Request(generation, {
        grantType: "client_credentials",
        clientId: credentials.clientId,
        clientSecret: credentials.clientSecret
      });
    case "v1-app-token":
      return v1Request(generation, { grantType: "app_token", AppId: credentials.clientId, AppSecret: credentials.clientSecret });
  }
}
function v1Request(generation, body) {
  return { generation, path: "/api/v1/token", contentType: "application/json", body: JSON.stringify(body) };
}

// src/inputs.ts
var SECRETS_HINT = "Repository secrets are not passed to workflows triggered from forks or by Dependabot; check that the secret exists and is passed to the step under `with:`.";
var MAX_TIMEOUT_SECONDS = 6 * 60 * 60;
var MAX_ATTEMPTS = 100;
function parseInputs(read) {
  const get = (name) => {
    const value = read(name).trim();
    return value === "" ? InputDefault[name] ?? "" : value;
  };
  return {
    baseUrl: normalizeBaseUrl(get(Input.url)),
    clientId: aliased(get, Input.clientId, Input.appId, "the client ID of the Run:ai service account, access key or application"),
    clientSecret: aliased(get, Input.clientSecret, Input.appSecret, "the secret of that client"),
    apiVersion: parseApiVersion(get(Input.apiVersion)),
    exportEnv: parseBoolean(Input.exportEnv, get(Input.exportEnv)),
    envName: parseEnvName(get(Input.envName)),
    timeoutMs: parsePositiveInteger(Input.timeoutSeconds, get(Input.timeoutSeconds), MAX_TIMEOUT_SECONDS) * 1e3,
    maxAttempts: parsePositiveInteger(Input.maxAttempts, get(Input.maxAttempts), MAX_ATTEMPTS),
    caCertificate: get(Input.caCertificate),
    insecureSkipTlsVerify: parseBoolean(Input.insecureSkipTlsVerify, get(Input.insecureSkipTlsVerify)),
    jobSummary: parseBoolean(Input.jobSummary, get(Input.jobSummary)),
    deploy: {
      cluster: parseName(Input.cluster, get(Input.cluster)),
      project: parseProject(get(Input.project)),
      permissions: parsePermissions(get(Input.permission)),
      listClusters: parseBoolean(Input.listClusters, get(Input.listClusters))
    }
  };
}
var MAX_NAME_CHARS = 253;
function parseName(name, value) {
  if (value.length > MAX_NAME_CHARS || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new InputError(
      `Input \`${name}\` must be one line of at most ${MAX_NAME_CHARS} characters: a name or UUID as the Run:ai UI shows it.`
    );
  }
  return value;
}
function parseProject(value) {
  const name = parseName(Input.project, value);
  if (name.includes(",")) {
    throw new InputError(
      `Input \`${Input.project}\` must not contain a comma: Run:ai project names have none, and the lookup joins its filters with commas.`
    );
  }
  return name;
}
var PERMISSION_ACTIONS = ["create", "read", "update", "delete"];
var RESOURCE_TYPE = /^[a-z][a-z0-9_/-]{0,63}$/;
function parsePermissions(value) {
  if (value === "") return [];
  return value.split(",").map((part) => {
    const words = part.trim().split(/\s+/);
    const [action = "", resourceType = ""] = words;
    const known = PERMISSION_ACTIONS.find((a) => a === action.toLowerCase());
    if (words.length !== 2 || known === void 0 || !RESOURCE_TYPE.test(resourceType)) {
      throw new InputError(
        `Input \`${Input.permission}\` must be "<action> <resource type>" items separated by commas, the action one of ${PERMISSION_ACTIONS.join(", ")} (for example "create trainings, read workloads"); got "${part.trim().slice(0, 60)}".`
      );
    }
    return { action: known, resourceType };
  });
}
function aliased(get, name, alias, what) {
  const value = get(name);
  const aliasValue = get(alias);
  if (value !== "" && aliasValue !== "" && value !== aliasValue) {
    throw new InputError(
      `Inputs \`${name}\` and \`${alias}\` are the same setting under two names and were given different values; set only \`${name}\`.`
    );
  }
  const chosen = value !== "" ? value : aliasValue;
  if (chosen === "") {
    throw new InputError(`Input \`${name}\` is required (${what}; \`${alias}\` is accepted as an alias) but is empty. ${SECRETS_HINT}`);
  }
  return chosen;
}
function parseApiVersion(value) {
  const choice = API_VERSION_CHOICES.find((c) => c === value.toLowerCase());
  if (choice === void 0) {
    throw new InputError(`Input \`${Input.apiVersion}\` must be one of ${API_VERSION_CHOICES.join(", ")}; got "${value.slice(0, 40)}".`);
  }
  return choice;
}
function parseBoolean(name, value) {
  if (/^(true|True|TRUE)$/.test(value)) return true;
  if (/^(false|False|FALSE)$/.test(value)) return false;
  throw new InputError(`Input \`${name}\` must be true or false; got "${value.slice(0, 40)}".`);
}
function parsePositiveInteger(name, value, max) {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new InputError(`Input \`${name}\` must be a whole number from 1 to ${max}; got "${value.slice(0, 40)}".`);
  }
  return n;
}
var RESERVED_ENV_NAMES = /* @__PURE__ */ new Set([
  // the system, the loader and the C library
  "PATH",
  "PATHEXT",
  "COMSPEC",
  "HOME",
  "TMPDIR",
  "GCONV_PATH",
  "GLIBC_TUNABLES",
  "HOSTALIASES",
  "LOCALDOMAIN",
  "RES_OPTIONS",
  "LOCPATH",
  "NLSPATH",
  // shells
  "BASH_ENV",
  "ENV",
  "SHELLOPTS",
  "BASHOPTS",
  "IFS",
  "CDPATH",
  "PROMPT_COMMAND",
  "PS4",
  "ZDOTDIR",
  "PSMODULEPATH",
  // runtimes and build tools that load code or options
  "JAVA_TOOL_OPTIONS",
  "JDK_JAVA_OPTIONS",
  "_JAVA_OPTIONS",
  "CLASSPATH",
  "MAVEN_OPTS",
  "GRADLE_OPTS",
  "RUSTC_WRAPPER",
  "RUSTFLAGS",
  "GOFLAGS",
  "PERLLIB",
  "JAVA_HOME",
  "GOROOT",
  "GOPATH",
  "GOPROXY",
  "GOPRIVATE",
  "GONOSUMDB",
  "GOTOOLCHAIN",
  "PHPRC",
  "TCLLIBPATH",
  "ERL_LIBS",
  "PKG_CONFIG_PATH",
  "CC",
  "CXX",
  "CPP",
  "LD",
  "CFLAGS",
  "CXXFLAGS",
  "CPPFLAGS",
  "LDFLAGS",
  "MAKEFLAGS",
  "SHELL",
  "HISTFILE",
  "INPUTRC",
  "TERMINFO",
  "BROWSER",
  "EDITOR",
  "VISUAL",
  "PAGER",
  "LESSOPEN",
  // where tools find certificates, servers and credentials
  "KUBECONFIG",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "CURL_CA_BUNDLE",
  "REQUESTS_CA_BUNDLE",
  "GNUPGHOME",
  "GOOGLE_APPLICATION_CREDENTIALS",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "ALL_PROXY",
  "NO_PROXY"
]);
var RESERVED_ENV_PREFIXES = [
  "LD_",
  "DYLD_",
  "MALLOC_",
  "OPENSSL_",
  "NODE_",
  "NPM_CONFIG_",
  "GIT_",
  "SSH_",
  "PYTHON",
  "PIP_",
  "PERL5",
  "RUBY",
  "GEM_",
  "BUNDLE_",
  "LUA_",
  "CARGO_",
  "R_",
  "AWS_",
  "DOTNET_",
  "CORECLR_",
  "COMPLUS_",
  "POWERSHELL_",
  "DOCKER_",
  "XDG_",
  "GITHUB_",
  "RUNNER_",
  "ACTIONS_"
];
function isReservedEnvName(name) {
  const upper = name.toUpperCase();
  return RESERVED_ENV_NAMES.has(upper) || RESERVED_ENV_PREFIXES.some((prefix) => upper.startsWith(prefix));
}
function parseEnvName(value) {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
    throw new InputError(
      `Input \`${Input.envName}\` must be a valid environment variable name (letters, digits and _, not starting with a digit); got "${value.slice(0, 60)}".`
    );
  }
  if (isReservedEnvName(value)) {
    throw new InputError(
      `Input \`${Input.envName}\` must not be ${value}: PATH, BASH_ENV, LD_*, NODE_*, OPENSSL_*, DOTNET_*, CLASSPATH, KUBECONFIG and the like change how later steps run, and GITHUB_*, RUNNER_* and ACTIONS_* belong to the runner. Use a name such as RUNAI_TOKEN.`
    );
  }
  return value;
}

// src/proxy-settings.ts
var SCHEME2 = /^[a-z][a-z0-9+.-]*:\/\//i;
function proxyFor(target, env = process.env) {
  const raw = env.https_proxy || env.HTTPS_PROXY;
  if (!raw || target.protocol !== "https:" || checkBypass(target)) return void 0;
  const unreadable = (why) => new ActionError(
    `HTTPS_PROXY is set but ${why}. Set it to http://[user:password@]host:port (or https://\u2026), or list the control plane's host in NO_PROXY.`
  );
  let url;
  try {
    url = new URL(SCHEME2.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw unreadable("is not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw unreadable(`uses ${url.protocol.slice(0, 20)}, which the action does not support`);
  try {
    return { url, username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  } catch {
    throw unreadable("its user name or password is not validly percent-encoded");
  }
}

// src/tls-trust.ts
import { readFileSync, statSync } from "node:fs";
import { X509Certificate } from "node:crypto";
var PEM_BEGIN = "-----BEGIN CERTIFICATE-----";
var PEM_END = "-----END CERTIFICATE-----";
function pemCertificates(text2) {
  const blocks = [];
  let begin = text2.indexOf(PEM_BEGIN);
  let end = begin === -1 ? -1 : text2.indexOf(PEM_END, begin + PEM_BEGIN.length + 1);
  while (end !== -1) {
    blocks.push(text2.slice(begin, end + PEM_END.length));
    begin = text2.indexOf(PEM_BEGIN, end + PEM_END.length);
    end = begin === -1 ? -1 : text2.indexOf(PEM_END, begin + PEM_BEGIN.length + 1);
  }
  return blocks;
}
var MAX_CA_FILE_BYTES = 1024 * 1024;
var readUtf8 = (path) => {
  const stats = statSync(path);
  if (!stats.isFile()) throw Object.assign(new Error("not a regular file"), { code: "not a regular file" });
  if (stats.size > MAX_CA_FILE_BYTES) throw Object.assign(new Error("too large"), { code: `larger than ${MAX_CA_FILE_BYTES / 1024} KiB` });
  return readFileSync(path, "utf8");
};
async function trustedContext(givenCa, env = process.env, tlsModule, readFile = readUtf8) {
  const node = tlsModule ?? await import("node:tls");
  const hasDefaultList = typeof node.getCACertificates === "function";
  const fromEnv = !hasDefaultList && env.NODE_EXTRA_CA_CERTS ? readOptional(env.NODE_EXTRA_CA_CERTS, readFile) : [];
  const context = node.createSecureContext();
  const store = context.context;
  if (typeof store?.addCACert === "function") {
    for (const pem of [...fromEnv, ...givenCa]) store.addCACert(pem);
    return context;
  }
  const defaults = node.getCACertificates?.("default") ?? [...node.rootCertificates, ...fromEnv];
  return node.createSecureContext({ ca: [...defaults, ...givenCa] });
}
function parseCaInput(caInput, readFile = readUtf8) {
  let pem = caInput;
  let source = "the PEM text given";
  if (!caInput.includes("-----BEGIN")) {
    try {
      pem = readFile(caInput);
    } catch (error2) {
      const code = error2.code ?? "unreadable";
      throw new InputError(
        `Input \`${Input.caCertificate}\` is neither PEM text (-----BEGIN CERTIFICATE-----\u2026) nor a readable file: cannot read "${caInput.slice(0, 200)}" (${code}).`
      );
    }
    source = `the file "${caInput.slice(0, 200)}"`;
  }
  const escapedNewlines = pem.includes("\\n") && !/-----BEGIN CERTIFICATE-----\r?\n/.test(pem);
  const escapeHint = escapedNewlines ? " It holds the two characters \\n where line breaks belong (a certificate stored with escaped newlines): store the PEM text as it is, with real line breaks, for example in a secret." : "";
  const blocks = pemCertificates(pem);
  if (blocks.length === 0) {
    throw new InputError(
      `Input \`${Input.caCertificate}\`: ${source} holds no PEM certificate (-----BEGIN CERTIFICATE----- \u2026 -----END CERTIFICATE-----).`
    );
  }
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch {
      throw new InputError(
        `Input \`${Input.caCertificate}\`: certificate ${index + 1} of ${blocks.length} in ${source} is not a valid X.509 certificate.${escapeHint}`
      );
    }
  });
  return blocks;
}
function readOptional(path, readFile) {
  try {
    return pemCertificates(readFile(path));
  } catch {
    return [];
  }
}

// src/token-answer.ts
var OAUTH2_ERROR_CODES = /* @__PURE__ */ new Set([
  "invalid_request",
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope"
]);
var ACCESS_TOKEN_KEYS = ["access_token", "accesstoken"];
var OTHER_TOKEN_KEYS = ["refresh_token", "refreshtoken", "id_token", "idtoken", "externaltoken"];
var EXPIRES_IN_KEYS = ["expires_in", "expiresin"];
var BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
var MIN_REDACTED_TOKEN = 8;
var MIN_ACCESS_TOKEN_CHARS = 16;
function hasTokenShape(value) {
  return value.length >= MIN_ACCESS_TOKEN_CHARS && BEARER_TOKEN.test(value);
}
function interpretAnswer(answer) {
  const { status } = answer;
  const fields = parseJsonObject(answer.body);
  const reason = fields === void 0 ? void 0 : errorReason(fields);
  const detail = describeStatus(status, reason);
  if (status >= 300 && status < 400 && status !== 304) {
    return { kind: "redirect", status, location: answer.location ?? "", detail, plain: `HTTP ${status}` };
  }
  if (fields === void 0 && looksLikeWebPage(answer)) {
    return own({ kind: "web-page", status, detail: `HTTP ${status} with a web page (HTML) instead of JSON` });
  }
  if (fields === void 0) {
    const body = answer.body.trim() === "" ? "an empty body" : "a body that is not JSON";
    return own({ kind: "other", status, detail: `HTTP ${status} with ${body}`, json: false });
  }
  if (status >= 200 && status < 300) {
    const accessToken = stringField(fields, ACCESS_TOKEN_KEYS);
    if (accessToken === void 0) {
      return own({ kind: "other", status, detail: `HTTP ${status} without an access token in the answer`, json: true });
    }
    if (!BEARER_TOKEN.test(accessToken)) {
      return own({ kind: "other", status, detail: `HTTP ${status} with an access token that is not a bearer token (RFC 6750)`, json: true });
    }
    if (accessToken.length < MIN_ACCESS_TOKEN_CHARS) {
      return own({
        kind: "other",
        status,
        detail: `HTTP ${status} with an access token of ${accessToken.length} characters, too short to be a Run:ai token`,
        json: true
      });
    }
    const otherTokens = OTHER_TOKEN_KEYS.map((k) => stringField(fields, [k])).filter(
      (t) => t !== void 0 && t.length >= MIN_REDACTED_TOKEN
    );
    const expiresInSeconds = positiveNumberField(fields, EXPIRES_IN_KEYS);
    return { kind: "token", grant: { accessToken, otherTokens, ...expiresInSeconds === void 0 ? {} : { expiresInSeconds } } };
  }
  const error2 = fields.get("error");
  if ((status === 400 || status === 401) && typeof error2 === "string" && OAUTH2_ERROR_CODES.has(error2)) {
    return { kind: "oauth-error", status, detail, plain: `HTTP ${status} with an OAuth2 error` };
  }
  return { kind: "other", status, detail, plain: `HTTP ${status}`, json: true };
}
function own(verdict) {
  return { ...verdict, plain: verdict.detail };
}
var V1_REFUSAL_STATUSES = /* @__PURE__ */ new Set([400, 401, 403, 422]);
function judgedCredentials(generation, verdict) {
  if (verdict.kind === "oauth-error") return true;
  return generation !== "v2" && verdict.kind === "other" && verdict.json && V1_REFUSAL_STATUSES.has(verdict.status);
}
function parseJsonObject(body) {
  let value;
  try {
    value = JSON.parse(body);
  } catch {
    return void 0;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return void 0;
  return new Map(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]));
}
function stringField(fields, keys) {
  for (const key of keys) {
    const value = fields.get(key);
    if (typeof value === "string" && value.trim() !== "") return value;
  }
  return void 0;
}
function positiveNumberField(fields, keys) {
  for (const key of keys) {
    const value = fields.get(key);
    const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof n === "number" && Number.isFinite(n) && n >= 1) return Math.floor(n);
  }
  return void 0;
}
function errorReason(fields) {
  const text2 = (key) => {
    const v = fields.get(key);
    return typeof v === "string" && v.trim() !== "" ? v : void 0;
  };
  const error2 = text2("error");
  if (error2 !== void 0) {
    const description = text2("error_description");
    return untrusted(description === void 0 ? error2 : `${error2}: ${description}`);
  }
  const message = text2("message");
  if (message !== void 0) {
    const details = text2("details");
    return untrusted(details === void 0 ? message : `${message} (${details})`);
  }
  return void 0;
}
function describeStatus(status, reason) {
  return reason === void 0 ? `HTTP ${status}` : `HTTP ${status}: ${reason}`;
}
function looksLikeWebPage(answer) {
  return /html/i.test(answer.contentType) || /^\s*</.test(answer.body);
}

// src/token-client.ts
async function requestToken(settings, deps) {
  const { deadline } = settings;
  const refusals = [];
  let generation = settings.apiVersion === "auto" ? "v2" : settings.apiVersion;
  for (; ; ) {
    const request4 = buildTokenRequest(generation, settings);
    const endpoint = `${settings.baseUrl}${request4.path}`;
    const outcome = await requestFromGeneration(endpoint, request4, settings, deps, deadline);
    if ("accessToken" in outcome) return outcome;
    refusals.push({ generation, endpoint, verdict: outcome });
    const next = settings.apiVersion === "auto" ? nextGeneration(generation, outcome) : "stop";
    if (next === "stop") throw new ActionError(describeRefusals(refusals, settings));
    deps.info(`${endpoint} answered ${outcome.plain}; trying api-version ${next}.`);
    if (outcome.detail !== outcome.plain) deps.debug(sentence(`${endpoint} answered ${outcome.detail}`));
    generation = next;
  }
}
function nextGeneration(generation, verdict) {
  const judged = judgedCredentials(generation, verdict);
  if (generation === "v2") return judged ? "stop" : "v1";
  if (generation === "v1" && judged) return "v1-app-token";
  return "stop";
}
async function requestFromGeneration(endpoint, request4, settings, deps, deadline) {
  const verdict = await withRetries(
    endpoint,
    async (timeoutMs) => {
      const answer = await deps.send({
        url: endpoint,
        contentType: request4.contentType,
        body: request4.body,
        userAgent: USER_AGENT,
        timeoutMs
      });
      const value = interpretAnswer(answer);
      if (value.kind === "token") [value.grant.accessToken, ...value.grant.otherTokens].forEach(deps.mask);
      const problem = value.kind === "token" ? { problem: "", plainProblem: "" } : { problem: value.detail, plainProblem: value.plain };
      return { value, status: answer.status, ...problem, retryAfter: answer.retryAfter };
    },
    { maxAttempts: settings.maxAttempts, timeoutMs: settings.timeoutMs, deadline },
    deps.clock,
    { progress: deps.info, debug: deps.debug }
  );
  if (verdict.kind === "token") return { ...verdict.grant, generation: request4.generation };
  if (verdict.kind === "redirect") throw new ActionError(describeRedirect(endpoint, verdict));
  return verdict;
}
function describeRedirect(endpoint, verdict) {
  let where = "an address it did not name";
  if (verdict.location !== "") {
    const raw = verdict.location.slice(0, firstIndexOf(verdict.location, "?#"));
    const origin = raw.startsWith("/") && !raw.startsWith("//") ? new URL(endpoint).origin : "";
    where = URL.canParse(verdict.location, endpoint) ? `${origin}${untrusted(raw)}` : "an address that is not a valid URL";
  }
  return `${endpoint} answered HTTP ${verdict.status}, redirecting to ${where}. Redirects are not followed because the request carries the client secret. Set \`url\` to the Run:ai control-plane address itself (the address of the Run:ai UI, such as https://mycompany.run.ai), not to an address that forwards to it.`;
}
function describeRefusals(refusals, settings) {
  const lastRefusal = refusals[refusals.length - 1];
  if (refusals.every((r) => r.verdict.kind === "web-page")) {
    return `\`url\` (${settings.baseUrl}) points at a web page, not the Run:ai API: ${refusals.map((r) => r.endpoint).join(" and ")} answered HTML. Set \`url\` to the Run:ai control-plane address (the address of the Run:ai UI, such as https://mycompany.run.ai); a login page or proxy in front of it cannot be used.`;
  }
  const list = refusals.map((r) => `api-version ${r.generation}: POST ${r.endpoint} answered ${r.verdict.detail}`).join("; ");
  const path = new URL(settings.baseUrl).pathname;
  if (path !== "/" && path !== "" && refusals.every((r) => r.verdict.status === 404 || r.verdict.kind === "web-page")) {
    return `Remove the path ${path} from \`url\`: no token endpoint answered below it (${list}). Set \`url\` to the control plane's address alone, such as https://mycompany.run.ai; the action adds /api/v2/token or /api/v1/token itself.`;
  }
  if (lastRefusal !== void 0 && judgedCredentials(lastRefusal.generation, lastRefusal.verdict)) {
    const grantRefused = lastRefusal.verdict.status === 400 || lastRefusal.verdict.status === 422;
    if (grantRefused && settings.apiVersion === "v1") {
      return `Use \`api-version: v1-app-token\` (or \`auto\`) if this control plane is 2.18 or 2.19: they accept only that; v1 client credentials came in 2.20 (${list}). Otherwise check \`client-id\` and \`client-secret\`.`;
    }
    if (grantRefused && settings.apiVersion === "v1-app-token") {
      return `Use \`api-version: auto\` (or \`v2\`) if this control plane is v3.0: it removed the app token that \`v1-app-token\` asks for (${list}). Otherwise check \`client-id\` and \`client-secret\`.`;
    }
    const oldServerHint = settings.apiVersion === "v1" ? " Control planes 2.18 and 2.19 accept only `api-version: v1-app-token`." : "";
    return `Run:ai refused the request for a token (${list}). Check \`client-id\` and \`client-secret\`: they must be the client ID and a current secret of a service account, access key or application of this control plane.${oldServerHint}`;
  }
  if (settings.apiVersion !== "auto") {
    return `Could not get a Run:ai token with api-version ${settings.apiVersion} (${list}). Check that \`url\` is the Run:ai control-plane address and that it supports this api-version; \`api-version: auto\` finds the right one.`;
  }
  return `Could not get a Run:ai token from ${settings.baseUrl}; no API generation answered with a token (${list}). Check that \`url\` is the Run:ai control-plane address, and \`client-id\` and \`client-secret\`.`;
}
function firstIndexOf(text2, chars) {
  for (let i = 0; i < text2.length; i++) if (chars.includes(text2.charAt(i))) return i;
  return text2.length;
}

// src/transport.ts
import * as http2 from "node:http";
import { isIP } from "node:net";

// src/proxy-tunnel.ts
import * as http from "node:http";
async function openTunnel({ url: proxy, username, password }, target, proxyTls, signal) {
  const authority = `${target.host.includes(":") ? `[${target.host}]` : target.host}:${target.port}`;
  const headers = { Host: authority };
  if (username !== "" || password !== "") {
    headers["Proxy-Authorization"] = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  }
  const isHttps = proxy.protocol === "https:";
  const proxyPort = proxy.port || (isHttps ? "443" : "80");
  const peer = { role: "proxy", label: `${proxy.hostname}:${proxyPort}` };
  const send = isHttps ? (await import("node:https")).request : http.request;
  return new Promise((resolve, reject) => {
    const request4 = send({
      host: bareHost(proxy),
      port: proxyPort,
      method: "CONNECT",
      path: authority,
      headers,
      agent: false,
      ...signal === void 0 ? {} : { signal },
      ...isHttps ? proxyTls : {}
    });
    request4.once("connect", (response, socket) => {
      if (response.statusCode === 200) {
        resolve(socket);
        return;
      }
      socket.destroy();
      const status = Number(response.statusCode);
      const hasCredentials = username !== "" || password !== "";
      let hint = "";
      if (status === 407) {
        hint = hasCredentials ? " The proxy refused the user name and password in HTTPS_PROXY: check them (special characters must be percent-encoded there, such as %40 for @)." : " The proxy wants credentials: put them in HTTPS_PROXY as http://user:password@proxy:port.";
      }
      reject(
        new TransportError(
          `the proxy ${peer.label} (from HTTPS_PROXY) refused to open a tunnel to ${authority} (HTTP ${status}).${hint}`,
          "proxy-refused",
          "proxy",
          status
        )
      );
    });
    request4.once("error", (error2) => reject(signal?.aborted ? signal.reason : classifyRequestError(error2, peer)));
    request4.end();
  });
}

// src/transport.ts
var STALE_CONNECTION_CODES = /* @__PURE__ */ new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);
function createTransport(trust) {
  const sessions = /* @__PURE__ */ new Map();
  const sessionFor = (target) => {
    let session = sessions.get(target.origin);
    if (session === void 0) {
      session = openSession(target, trust);
      sessions.set(target.origin, session);
    }
    return session;
  };
  const send = async (request4) => {
    const target = new URL(request4.url);
    return post(request4, target, await sessionFor(target), trust);
  };
  const close = () => {
    for (const session of sessions.values()) void session.then((s) => s.agent.destroy());
    sessions.clear();
  };
  return Object.assign(send, { close });
}
async function openSession(target, trust) {
  const isHttps = target.protocol === "https:";
  const agentOptions = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1 };
  if (!isHttps) return { agent: new http2.Agent(agentOptions) };
  const [tlsModule, httpsModule] = await Promise.all([import("node:tls"), import("node:https")]);
  const secureContext = trust.extraCa === void 0 ? void 0 : await trustedContext(trust.extraCa);
  const identityCheck = identityChecks(tlsModule.checkServerIdentity);
  const session = {
    agent: new httpsModule.Agent({ ...agentOptions, checkServerIdentity: identityCheck(bareHost(target)) }),
    identityCheck,
    ...secureContext === void 0 ? {} : { secureContext }
  };
  const proxy = proxyFor(target);
  if (proxy !== void 0) {
    const connectThroughProxy = (_options, done) => {
      openTunnel(proxy, tunnelEndpoint(target), tlsOptions(bareHost(proxy.url), session, trust), session.signal).then((tunnel) => {
        const socket = tlsModule.connect({ ...tlsOptions(bareHost(target), session, trust), host: bareHost(target), socket: tunnel });
        socket.once("close", () => tunnel.destroy());
        done(null, socket);
      }).catch((error2) => done(error2));
      return void 0;
    };
    Object.assign(session.agent, { createConnection: connectThroughProxy });
  }
  return session;
}
function identityChecks(check) {
  const checks = /* @__PURE__ */ new Map();
  return (host) => {
    let forHost = checks.get(host);
    if (forHost === void 0) {
      forHost = (_name, cert) => check(host, cert);
      checks.set(host, forHost);
    }
    return forHost;
  };
}
function tunnelEndpoint(target) {
  return { host: bareHost(target), port: Number(target.port || 443) };
}
function tlsOptions(host, session, trust) {
  return {
    rejectUnauthorized: !trust.insecureSkipTlsVerify,
    ...session.secureContext === void 0 ? {} : { secureContext: session.secureContext },
    // SNI takes names only, not addresses; '' stops Node from deriving one from the Host header.
    servername: isIP(host) === 0 ? host : "",
    checkServerIdentity: session.identityCheck(host)
  };
}
async function post(request4, target, session, trust) {
  const controller = new AbortController();
  const peer = { role: "control plane", label: target.host };
  const timedOut = new TransportError(
    `no answer from ${target.host} within ${Math.ceil(request4.timeoutMs / 1e3)} s.`,
    "timeout",
    "control plane"
  );
  const timer = setTimeout(() => controller.abort(timedOut), request4.timeoutMs);
  session.signal = controller.signal;
  const isHttps = target.protocol === "https:";
  const options = {
    host: bareHost(target),
    port: Number(target.port || (isHttps ? 443 : 80)),
    path: `${target.pathname}${target.search}`,
    method: request4.method ?? "POST",
    agent: session.agent,
    signal: controller.signal,
    headers: {
      ...request4.body === void 0 ? {} : { "Content-Type": request4.contentType ?? "application/json", "Content-Length": Buffer.byteLength(request4.body) },
      ...request4.authorization === void 0 ? {} : { Authorization: request4.authorization },
      Accept: "application/json",
      "User-Agent": request4.userAgent
    },
    ...session.identityCheck === void 0 ? {} : tlsOptions(bareHost(target), { ...session, identityCheck: session.identityCheck }, trust)
  };
  const send = isHttps ? (await import("node:https")).request : http2.request;
  return exchange(send, options, request4.body ?? "", peer, controller).catch((error2) => {
    if (error2 instanceof StaleConnection) return exchange(send, options, request4.body ?? "", peer, controller);
    throw error2;
  }).catch((error2) => {
    throw controller.signal.aborted ? controller.signal.reason : classifyRequestError(error2, peer);
  }).finally(() => clearTimeout(timer));
}
var StaleConnection = class extends Error {
};
function exchange(send, options, body, peer, controller) {
  return new Promise((resolve, reject) => {
    const req = send(options, (res) => {
      const chunks = [];
      let size = 0;
      res.on("data", (chunk) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          controller.abort(
            new TransportError(
              `the answer from ${peer.label} is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB, far more than any answer of the Run:ai API, so \`url\` probably does not point at it.`,
              "too-large",
              peer.role
            )
          );
          return;
        }
        chunks.push(chunk);
      });
      res.once("end", () => {
        resolve({
          status: Number(res.statusCode),
          contentType: res.headers["content-type"] ?? "",
          ...res.headers.location === void 0 ? {} : { location: res.headers.location },
          ...res.headers["retry-after"] === void 0 ? {} : { retryAfter: res.headers["retry-after"] },
          body: Buffer.concat(chunks).toString("utf8")
        });
      });
      res.once("error", reject);
      res.once("aborted", () => reject(truncated(peer)));
    });
    req.once("error", (error2) => {
      reject(req.reusedSocket && STALE_CONNECTION_CODES.has(String(error2.code)) ? new StaleConnection(error2.message) : error2);
    });
    req.once("upgrade", (res, socket) => {
      socket.destroy();
      reject(
        new TransportError(
          `${peer.label} answered HTTP ${res.statusCode} (switching protocols) instead of answering the request; \`url\` does not point at the Run:ai API.`,
          "switched-protocols",
          peer.role
        )
      );
    });
    controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
    req.end(body);
  });
}
function truncated(peer) {
  return new TransportError(`the connection to ${peer.label} closed before the whole answer arrived.`, "truncated", peer.role);
}

// src/main.ts
var defaultDeps = {
  // Named, not spread from a namespace: a spread would use every export of @actions/core and keep
  // its OIDC client (and undici behind it) in the bundle. See BENCHMARKS.md.
  core: {
    getInput,
    setSecret,
    setOutput,
    exportVariable,
    setFailed,
    info,
    warning,
    debug,
    isDebug,
    appendSummary: async (markdown) => void await summary.addRaw(markdown, true).write()
  },
  clock: systemClock,
  createSender: createTransport,
  env: process.env
};
async function run(deps = defaultDeps) {
  const { core, clock, env } = deps;
  const log = new LogBoundary({ info: core.info, debug: core.debug, warning: core.warning, error: core.setFailed });
  const mask = (value) => {
    log.addSecret(value);
    if (hasTokenShape(value)) core.setSecret(value);
  };
  const maskSent = (value) => {
    log.addRequestSecret(value);
    runnerMasks(value).forEach(core.setSecret);
  };
  let sender;
  try {
    const read = (name) => core.getInput(name);
    for (const name of [Input.clientSecret, Input.appSecret]) {
      const secret = read(name).trim();
      if (secret !== "") maskSent(secret);
    }
    const config = parseInputs(read);
    const proxyPassword = proxyFor(new URL(config.baseUrl))?.password;
    if (proxyPassword) maskSent(proxyPassword);
    requireRunnerFiles(config, env);
    if (config.insecureSkipTlsVerify) {
      log.warning(
        "insecure-skip-tls-verify is true: the certificates of the Run:ai control plane and of an https:// proxy are not checked, so anyone on the network path could read the client secret and the token. Pass the CA in `ca-certificate` instead."
      );
    }
    const extraCa = config.caCertificate === "" ? void 0 : parseCaInput(config.caCertificate);
    sender = deps.createSender({ insecureSkipTlsVerify: config.insecureSkipTlsVerify, ...extraCa === void 0 ? {} : { extraCa } });
    if (read(Input.url).includes("#"))
      log.debug(`The fragment (#\u2026) of \`url\` was dropped: it never reaches a server; using ${config.baseUrl}.`);
    log.debug(`Requesting a token from ${config.baseUrl} with api-version ${config.apiVersion}.`);
    const deadline = clock.now() + config.timeoutMs;
    log.hold();
    const issued = await requestToken(
      { ...config, deadline },
      { send: sender, clock, mask, info: (m) => log.info(m), debug: (m) => log.debug(m) }
    ).finally(() => log.release());
    if (Buffer.byteLength(issued.accessToken) > MAX_TOKEN_BYTES) {
      throw new ActionError(
        `The token from ${config.baseUrl} is ${Buffer.byteLength(issued.accessToken)} bytes long, more than the ${MAX_TOKEN_BYTES / 1024} KiB an environment variable can safely carry: later steps would fail to start. Check that \`url\` is the Run:ai control plane.`
      );
    }
    const expiry = tokenExpiry(issued.accessToken, issued.expiresInSeconds, clock.now());
    const context = wantsDeployContext(config.deploy) ? await resolveDeployContext(
      {
        ...config.deploy,
        baseUrl: config.baseUrl,
        clientId: config.clientId,
        maxAttempts: config.maxAttempts,
        timeoutMs: config.timeoutMs,
        deadline
      },
      issued.accessToken,
      { send: sender, clock, info: (m) => log.info(m), warning: (m) => log.warning(m), debug: (m) => log.debug(m) }
    ) : {};
    handOn(core, config, issued, expiry, context, log);
    log.info(successMessage(config, issued, expiry, context));
    if (expiry?.alreadyPast) {
      log.warning(
        `The token's expiry time (${expiry.expiresAt}) is already past by the runner's clock (${new Date(clock.now()).toISOString()}): the runner's clock or the control plane's is off. Later steps may be refused with HTTP 401; check both clocks (NTP).`
      );
    }
    if (config.jobSummary) await writeSummary(core, log, env, summaryLine(config, issued, expiry, context, log));
  } catch (error2) {
    log.error(failureMessage(error2));
    if (error2 instanceof Error && error2.stack !== void 0 && core.isDebug()) {
      const frames = ownStackFrames(error2).map(untrusted);
      if (frames.length > 0) log.debug(`Where it failed: ${frames.join("; ")}`);
    }
  } finally {
    sender?.close();
  }
}
function requireRunnerFiles(config, env) {
  const needed = [RunnerFile.output, ...config.exportEnv ? [RunnerFile.env] : []];
  const missing = needed.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new ActionError(
      `${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not set, so the token could only be handed on as a command on stdout, which this action never does. Run it as a step of a GitHub Actions job (runner 2.327.1 or later)${config.exportEnv ? ", or set `export-env: false`" : ""}.`
    );
  }
}
async function writeSummary(core, log, env, line) {
  if (!env[RunnerFile.summary]) {
    log.warning(`${RunnerFile.summary} is not set, so \`job-summary: true\` wrote no summary; the token was handed on as usual.`);
    return;
  }
  try {
    await core.appendSummary(line);
  } catch (error2) {
    log.warning(`The job summary could not be written (${untrusted(String(error2))}); the token was handed on as usual.`);
  }
}
function handOn(core, config, issued, expiry, context, log) {
  core.setOutput(Output.token, issued.accessToken);
  core.setOutput(Output.expiresIn, expiry === void 0 ? "" : String(expiry.expiresInSeconds));
  core.setOutput(Output.expiresAt, expiry?.expiresAt ?? "");
  core.setOutput(Output.apiVersion, issued.generation);
  core.setOutput(Output.url, config.baseUrl);
  if (context.cluster !== void 0) {
    core.setOutput(Output.clusterId, context.cluster.id);
    core.setOutput(Output.clusterName, context.cluster.name);
    core.setOutput(Output.clusterVersion, context.cluster.version);
  }
  if (context.project !== void 0) core.setOutput(Output.projectId, context.project.id);
  if (context.clusters !== void 0) {
    if (context.clusters.length > MAX_CLUSTERS_OUTPUT) {
      log.warning(
        `The identity sees ${context.clusters.length} clusters; the \`clusters\` output holds the first ${MAX_CLUSTERS_OUTPUT} by name.`
      );
    }
    const entries = context.clusters.slice(0, MAX_CLUSTERS_OUTPUT).map(({ id, name, version, state }) => ({ id, name, version, state }));
    core.setOutput(Output.clusters, JSON.stringify(entries));
  }
  if (config.exportEnv) core.exportVariable(config.envName, issued.accessToken);
}
function successMessage(config, issued, expiry, context) {
  const until = expiry === void 0 ? "" : `, valid until ${expiry.expiresAt}`;
  const where = config.exportEnv ? ` Later steps find it in $${config.envName} and in the step output \`token\`.` : " It is in the step output `token`.";
  return `Got a Run:ai token from ${config.baseUrl} (api-version ${issued.generation})${until}.${where}${contextSentence(config, context)}`;
}
function contextSentence(config, context) {
  const { cluster, project } = context;
  const clusterName = cluster !== void 0 && cluster.name === config.deploy.cluster ? `${cluster.name} ` : "";
  const parts = [
    ...cluster === void 0 ? [] : [`cluster ${clusterName}(${cluster.id})`],
    ...project === void 0 ? [] : [`project ${config.deploy.project}`]
  ];
  const found = parts.length === 0 ? "" : ` Deploying to ${parts.join(", ")}.`;
  const permissions = config.deploy.permissions.map((p) => `${p.action} ${p.resourceType}`);
  const allowed = permissions.length === 0 ? "" : ` It may ${permissions.join(", ")} there.`;
  const listedClusters = context.clusters !== void 0 && context.cluster === void 0 ? ` It sees ${context.clusters.length} cluster(s): output \`clusters\`.` : "";
  return `${found}${allowed}${listedClusters}`;
}
function summaryLine(config, issued, expiry, context, log) {
  const value = (text2) => codeSpan(log.render(text2));
  const target = [
    ...context.cluster === void 0 ? [] : [`, cluster ${value(context.cluster.name)}`],
    ...context.project === void 0 ? [] : [`, project ${value(context.project.name)}`]
  ].join("");
  return `Run:ai token for client ${value(config.clientId)} from ${value(config.baseUrl)} (api-version ${issued.generation})${target}, expires ${expiry?.expiresAt ?? "at an unknown time"}.`;
}
function codeSpan(text2) {
  let longest = 0;
  for (let i = 0, run2 = 0; i < text2.length; i++) {
    run2 = text2[i] === "`" ? run2 + 1 : 0;
    longest = Math.max(longest, run2);
  }
  const fence = "`".repeat(longest + 1);
  const pad = text2.startsWith("`") || text2.endsWith("`") ? " " : "";
  return `${fence}${pad}${text2}${pad}${fence}`;
}
function failureMessage(error2) {
  if (error2 instanceof ActionError) return error2.message;
  const text2 = untrusted(error2 instanceof Error ? error2.message : String(error2));
  return `runai-token-action failed unexpectedly: ${text2}. Re-run with debug logging for details, and please report it.`;
}

// src/index.ts
await run();
//# sourceMappingURL=index.js.map
