import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ValidateBy, type ValidationOptions } from 'class-validator';
import { parseInt64Header, parseUserId } from '@app/contract';

const MESSAGE = '$property must be a positive integer below 2^53 (a JSON number or a decimal string)';

/**
 * A user id field: accepts a JSON number or a decimal string and leaves a JS number behind;
 * anything else (fraction, negative, 2^53 and above, non-numeric) fails validation naming the field.
 */
export function IsUserIdField(options: ValidationOptions = {}): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) =>
      Array.isArray(value) && options.each ? value.map((item) => parseUserId(item) ?? item) : (parseUserId(value) ?? value),
    ),
    ValidateBy(
      { name: 'isUserId', validator: { validate: (value: unknown) => typeof value === 'number' && parseUserId(value) === value } },
      { message: MESSAGE, ...options },
    ),
  );
}

/**
 * An int64 id from another service (a group id): a JSON number or a decimal string, kept as a
 * decimal string since int64s beyond 2^53 are not exact as JS numbers.
 */
export function IsInt64Field(options: ValidationOptions = {}): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => {
      const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
      return typeof text === 'string' ? (parseInt64Header(text) ?? value) : value;
    }),
    ValidateBy(
      { name: 'isInt64', validator: { validate: (value: unknown) => typeof value === 'string' && parseInt64Header(value) === value } },
      { message: '$property must be a positive int64 (a JSON number or a decimal string)', ...options },
    ),
  );
}
