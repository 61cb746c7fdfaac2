import { DevicePlatform } from './device.entity';

/**
 * The platform's device kind, read off the User-Agent a device logged in with. Order matters:
 * Android user agents also say "Linux", iPads may say "Macintosh".
 */
const RULES: ReadonlyArray<[RegExp, DevicePlatform]> = [
  [/\b(iPhone|iPad|iPod|iOS|CFNetwork|Darwin)\b/i, DevicePlatform.Ios],
  [/\bAndroid\b|okhttp/i, DevicePlatform.Android],
  [/\b(Mozilla|Chrome|Safari|Firefox|Edg)\//, DevicePlatform.Web],
  [/\bWindows\b/i, DevicePlatform.Windows],
  [/\b(Macintosh|Mac OS|macOS)\b/i, DevicePlatform.Mac],
  [/\bLinux\b/i, DevicePlatform.Linux],
];

export function platformFromUserAgent(userAgent: string | undefined): DevicePlatform {
  if (!userAgent) return DevicePlatform.Unknown;
  return RULES.find(([pattern]) => pattern.test(userAgent))?.[1] ?? DevicePlatform.Unknown;
}
