// Jest's moduleNameMapper does not apply to global setup, which runs outside the test sandbox:
// resolve the @app/* aliases from tsconfig.json here instead. Imported first by global-setup.
import { register } from 'tsconfig-paths';
import { join } from 'node:path';

register({
  baseUrl: join(__dirname, '..', '..'),
  paths: {
    '@app/config': ['libs/config/src'],
    '@app/contract': ['libs/contract/src'],
    '@app/persistence': ['libs/persistence/src'],
    '@app/jwt': ['libs/jwt/src'],
    '@app/auth-client': ['libs/auth-client/src'],
  },
});
