/**
 * Two projects: `unit` (pure rules, no database) and `e2e` (the real service over real HTTP on a
 * real PostgreSQL: DATABASE_URL when set, a fresh database per run; else an embedded PGlite).
 */
const swc = ['@swc/jest', {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
}];
const moduleNameMapper = {
  '^@app/(config|contract|persistence|jwt|auth-client)$': '<rootDir>/libs/$1/src',
  '^@app/(config|contract|persistence|jwt|auth-client)/(.*)$': '<rootDir>/libs/$1/src/$2',
};
// NestJS 12 ships as ES modules only. Node 20 loads them through require(esm), but Jest's own
// module system cannot (before Node 24.9), so Jest compiles those packages to CommonJS with swc
// (content-disposition: @fastify/static's, which Swagger UI needs on Fastify).
const ESM_ONLY = ['@nestjs', 'content-disposition', 'file-type', 'strtok3', 'token-types', '@tokenizer', 'uint8array-extras', '@borewit', 'es-toolkit', 'load-esm'];
const swcJs = ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } }];
const common = {
  transform: { '^.+\\.ts$': swc, '^.+\\.m?js$': swcJs },
  // Matched at the innermost node_modules/ of a path, so that a nested copy is compiled too.
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)(?!.*/node_modules/)`],
  moduleNameMapper,
  testEnvironment: 'node',
  rootDir: __dirname,
};

module.exports = {
  // A global option: Jest ignores it inside a project.
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts', '<rootDir>/test/unit/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};
