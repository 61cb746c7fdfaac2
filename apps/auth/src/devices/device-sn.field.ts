import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

/** device_sn is the platform's int32 serial number of a user's device, from 1. */
export const DEVICE_SN_MAX = 2 ** 31 - 1;

/**
 * A device_sn in a query or a JSON body: a number, or a decimal string read as one (a query value,
 * or a form field an app forwards as is); anything else fails validation naming the field.
 */
export function IsDeviceSnField(): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^-?[0-9]{1,12}$/.test(value) ? Number(value) : value)),
    IsInt(),
    Min(1),
    Max(DEVICE_SN_MAX),
  );
}
