import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ValidateBy, type ValidationOptions } from 'class-validator';
import { parseUserId } from '@app/contract';

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
