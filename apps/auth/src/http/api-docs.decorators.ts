/**
 * Swagger decorators that keep the docs tied to the code: the envelope around each reply model,
 * the reference platform's headers, and the error codes a route can answer, taken from the
 * error catalogue itself.
 */
import { applyDecorators, type Type } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiOkResponse, ApiResponse, getSchemaPath } from '@nestjs/swagger';
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
          (status < 500 ? ' (HTTP 200 with the same body when ERROR_HTTP_STATUS=200)' : ''),
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

/** The reference platform's four headers, on every route that belongs to an app. */
export function PlatformHeaders(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    ApiHeader({ name: 'app_id', required: true, description: 'App ID (the tenant)' }),
    ApiHeader({ name: 'access-token', required: false, description: 'Admin token or user token' }),
    ApiHeader({ name: 'group_id', required: false, description: 'int64: act as an admin of this group (admin token only)' }),
    ApiHeader({ name: 'user_id', required: false, description: 'int64: act for this user' }),
  );
}
