import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ACCESS_TOKEN_SCHEME, APP_ID_SCHEME } from './api-docs.decorators';

/**
 * Swagger UI at /docs, the OpenAPI document at /docs-json. `app_id` and `access-token` are apiKey
 * header schemes, so a person exploring the API enters them once (Authorize) instead of in every
 * operation; the browser keeps them across reloads (persistAuthorization, in its localStorage).
 */
export function setUpApiDocs(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('IM auth service')
      .setDescription(
        'Issues access tokens for IM users over the reference platform\'s token interface. Every reply is ' +
          '`{code, message, data}`; `code` 200 is success. Error codes: see docs/errors.md.',
      )
      .setVersion('0.1.0')
      .addApiKey({ type: 'apiKey', in: 'header', name: 'app_id', description: 'App ID (the tenant), required on every route of an app' }, APP_ID_SCHEME)
      .addApiKey(
        {
          type: 'apiKey',
          in: 'header',
          name: 'access-token',
          description: 'An admin token of the app, or a user token from /token/*; optional where a route allows anonymous callers',
        },
        ACCESS_TOKEN_SCHEME,
      )
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', swaggerOptions: { persistAuthorization: true } });
}
