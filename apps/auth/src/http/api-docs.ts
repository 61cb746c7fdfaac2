/**
 * The API docs: Swagger UI and the OpenAPI document, and the decorators that keep them tied to the
 * code: the envelope around each reply model, the reference platform's headers, and the error
 * codes a route can answer, taken from the error catalogue itself.
 */
import { applyDecorators, type INestApplication, type Type } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiOkResponse, ApiResponse, ApiSecurity, DocumentBuilder, getSchemaPath, SwaggerModule } from '@nestjs/swagger';
import { ErrorCatalogue, type ErrorName } from '@app/contract';

type ReplyData = Type<unknown> | [Type<unknown>] | 'boolean';

/** The 200 reply: `{code: 200, message: null, data: <model>}`. */
export function ApiEnvelope(data: ReplyData, description = 'Success'): MethodDecorator & ClassDecorator {
  const models = data === 'boolean' ? [] : Array.isArray(data) ? data : [data];
  const dataSchema =
    data === 'boolean'
      ? { type: 'boolean', example: true }
      : Array.isArray(data)
        ? { type: 'array', items: { $ref: getSchemaPath(data[0]) } }
        : { $ref: getSchemaPath(data) };
  return applyDecorators(
    ApiExtraModels(...models),
    ApiOkResponse({
      description,
      schema: {
        type: 'object',
        required: ['code', 'message', 'data'],
        properties: {
          code: { type: 'integer', example: 200 },
          message: { type: 'string', nullable: true, example: null },
          data: dataSchema,
        },
      },
    }),
  );
}

/**
 * What any route of an app can answer, whatever it does: a bad or oversized body, an unknown app,
 * the impersonation headers' refusals, a database outage.
 */
const COMMON_ERRORS: ErrorName[] = [
  'BAD_PARAMETER',
  'BODY_TOO_LARGE',
  'UNSUPPORTED_CONTENT_TYPE',
  'APP_NOT_FOUND',
  'ACCESS_TOKEN_INVALID',
  'ACCESS_TOKEN_EXPIRED',
  'NO_PERMISSION',
  'GROUP_NOT_FOUND',
  'NOT_GROUP_MEMBER',
  'NEEDS_GROUP_ADMIN',
  'DATABASE_UNAVAILABLE',
];

/** One documented response per HTTP status, listing the catalogue codes the route can answer. */
export function ApiErrors(...names: ErrorName[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ErrorName[]>();
  for (const name of [...COMMON_ERRORS, ...names]) {
    const status = ErrorCatalogue[name].status;
    const list = byStatus.get(status) ?? [];
    if (!list.includes(name)) list.push(name);
    byStatus.set(status, list);
  }
  return applyDecorators(
    ...[...byStatus.entries()].map(([status, list]) =>
      ApiResponse({
        status,
        description:
          list.map((name) => `${ErrorCatalogue[name].code}: ${ErrorCatalogue[name].message}`).join('; ') +
          (status < 500 ? ` (HTTP 200 with this body by default; HTTP ${status} with ERROR_HTTP_STATUS=mirror)` : ''),
        schema: {
          type: 'object',
          properties: {
            code: { type: 'integer', enum: list.map((name) => ErrorCatalogue[name].code), example: ErrorCatalogue[list[0]].code },
            message: { type: 'string', example: ErrorCatalogue[list[0]].message },
            data: { type: 'object', nullable: true, example: null },
          },
        },
      }),
    ),
  );
}

/** The security schemes (setUpApiDocs declares them): Swagger UI's Authorize button fills them in once for every call. */
const APP_ID_SCHEME = 'app_id';
const ACCESS_TOKEN_SCHEME = 'access-token';

/**
 * The reference platform's four headers, on every route that belongs to an app: `app_id` (required)
 * and `access-token` (optional) as security schemes, the impersonation headers as parameters of
 * each operation, since they change per call.
 */
export function PlatformHeaders(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    // Alternatives: app_id with access-token, or app_id alone.
    ApiSecurity({ [APP_ID_SCHEME]: [], [ACCESS_TOKEN_SCHEME]: [] }),
    ApiSecurity({ [APP_ID_SCHEME]: [] }),
    ApiHeader({ name: 'group_id', required: false, description: 'int64: act as an admin of this group (admin token only)' }),
    ApiHeader({ name: 'user_id', required: false, description: 'int64: act for this user' }),
  );
}

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
