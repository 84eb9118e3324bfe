import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

export default tseslint.config(
  { ignores: ['dist/', '.build/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'no-console': 'error'
    }
  },
  {
    files: ['test-server/**', 'scripts/**', 'bench/**', '__tests__/**'],
    rules: { 'no-console': 'off' }
  }
)
