/**
 * Request validation with class-validator, turned into our 10002 error with a message that names
 * the offending field. Used by the global ValidationPipe and by ValidatedBodyGuard, which runs the
 * same check before Passport sees a login body.
 */
import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validate } from 'class-validator';
import { ApiError } from '@app/contract';

const VALIDATOR_OPTIONS = { whitelist: true, forbidUnknownValues: true } as const;

/**
 * When a field breaks several rules, the message names the most basic one first: missing, then
 * wrong type, then the finer rules (class-validator reports them in no useful order).
 */
const CONSTRAINT_PRIORITY = ['isDefined', 'isString', 'isArray', 'isUserId', 'isInt64', 'isInt', 'isNotEmpty', 'arrayMinSize'];

function rank(constraint: string): number {
  const index = CONSTRAINT_PRIORITY.indexOf(constraint);
  return index === -1 ? CONSTRAINT_PRIORITY.length : index;
}

export function badParameter(errors: ValidationError[]): ApiError {
  const first = firstLeaf(errors[0], '');
  return new ApiError('BAD_PARAMETER', first ?? 'Incorrect request parameter');
}

function firstLeaf(error: ValidationError | undefined, prefix: string): string | undefined {
  if (!error) return undefined;
  const path = prefix ? `${prefix}.${error.property}` : error.property;
  const names = Object.keys(error.constraints ?? {}).sort((a, b) => rank(a) - rank(b));
  const constraint = names.length > 0 ? error.constraints![names[0]] : undefined;
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
  let instance: T;
  try {
    instance = plainToInstance(dtoClass, body);
  } catch {
    // class-transformer throws on some hostile shapes (a nested "constructor" key, for one).
    throw new ApiError('BAD_PARAMETER', 'Request body has fields that cannot be read');
  }
  const errors = await validate(instance, VALIDATOR_OPTIONS);
  if (errors.length > 0) throw badParameter(errors);
  return instance;
}
