// Mocha's settings. A JS file rather than JSON so CI can be told apart: with CI=true a test left as `.only`
// fails the run instead of silently skipping every other test.
module.exports = {
  require: ['ts-node/register/transpile-only'],
  extension: ['ts'],
  timeout: 20000,
  reporter: 'test/reporter.js',
  forbidOnly: process.env.CI === 'true',
};
