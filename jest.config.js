/** Tests run against a real database: the embedded PostgreSQL by default, or the server named
 *  by DATABASE_URL (each test file then gets a database of its own). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }],
  },
  testTimeout: 60000,
  maxWorkers: 2,
};
