/**
 * Request validation with class-validator, turned into our 10002 error with a message that names
 * the offending field. Used by the global ValidationPipe and by ValidatedBodyGuard, which runs the
 * same check before Passport sees a login body.
 */
import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validate } from 'class-validator';
import { ApiError } from '@app/contract';

const VALIDATOR_OPTIONS = { whitelist: true, forbidUnknownValues: true, stopAtFirstError: true } as const;

export function badParameter(errors: ValidationError[]): ApiError {
  const first = firstLeaf(errors[0], '');
  return new ApiError('BAD_PARAMETER', first ?? 'Incorrect request parameter');
}

function firstLeaf(error: ValidationError | undefined, prefix: string): string | undefined {
  if (!error) return undefined;
  const path = prefix ? `${prefix}.${error.property}` : error.property;
  const constraint = error.constraints ? Object.values(error.constraints)[0] : undefined;
  if (constraint) return constraint.replace(error.property, path);
  return firstLeaf(error.children?.[0], path);
}

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    ...VALIDATOR_OPTIONS,
    transform: true,
    exceptionFactory: (errors) => badParameter(errors),
  });
}

/** Validates and transforms a JSON body against a DTO class; throws 10002 naming the first bad field. */
export async function validateBody<T extends object>(dtoClass: ClassConstructor<T>, body: unknown): Promise<T> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError('BAD_PARAMETER', 'Request body must be a JSON object');
  }
  const instance = plainToInstance(dtoClass, body);
  const errors = await validate(instance, VALIDATOR_OPTIONS);
  if (errors.length > 0) throw badParameter(errors);
  return instance;
}
