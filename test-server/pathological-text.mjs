// Text shaped to make non-linear code slow: long runs of one character that a regular expression
// may backtrack over (dots before a non-dot, spaces, `#`, `:`, `*`, slashes), the log boundary's
// own marker characters, line separators, digits, PEM headers without an end, and JSON nested as
// deep as the size allows. Shared by the linear-time test and the benchmark. Plain Node.

export const MIB = 1024 * 1024

/** @param {string} unit @param {number} size @param {string} [tail] the unit repeated to `size` characters, then `tail` */
const run = (unit, size, tail = 'x') => unit.repeat(Math.ceil((size - tail.length) / unit.length)).slice(0, size - tail.length) + tail

/**
 * Each shape, `size` characters long (1 MiB unless given).
 * @param {number} [size]
 * @returns {Record<string, string>}
 */
export function pathologicalShapes(size = MIB) {
  const half = Math.floor(size / 2)
  return {
    'dots, then a letter': run('.', size),
    'dots to the end': run('.', size, '.'),
    'spaces, then a letter': run(' ', size),
    '# runs': run('#', size),
    '##[ runs': run('##[', size),
    ': runs': run(':', size),
    '* runs': run('*', size),
    'slashes, then a letter': run('/', size),
    'marker characters': run('\uE000\uE001\uE000', size),
    'open markers only': run('\uE000', size),
    'line feeds': run('\n', size),
    'carriage returns': run('\r', size),
    'line separators': run('\u2028\u2029', size),
    'digits, then a letter': run('7', size),
    'alternating dot and space': run('. ', size),
    'PEM headers without an end': run('-----BEGIN CERTIFICATE-----\n', size),
    'GMT runs': run('GMT', size),
    'JSON nested deep': `${'['.repeat(half)}${']'.repeat(size - half)}`,
    'JSON opened, never closed': run('[', size),
    'control characters': run('\u001b\u0000\u00ad', size)
  }
}
