/** A UNECE Rec 20 common code from an EUInformation unitId: its ASCII letters, big-endian (4408652 → "CEL"). */
export function uneceCodeOf(unitId: number): string | undefined {
  if (!Number.isInteger(unitId) || unitId <= 0 || unitId > 0xffffff) return undefined;
  let code = '';
  for (let v = unitId; v > 0; v = Math.floor(v / 256)) code = String.fromCharCode(v % 256) + code;
  return /^[A-Z0-9]{2,3}$/.test(code) ? code : undefined;
}

/** The unit an EngineeringUnits value (EUInformation) names: its display name ("°C"), else its UNECE code. */
export function unitOfEuInformation(eu: unknown): string | undefined {
  if (eu === null || typeof eu !== 'object') return undefined;
  const { displayName, unitId } = eu as { displayName?: { text?: unknown } | null; unitId?: unknown };
  const text = displayName?.text;
  if (typeof text === 'string' && text.trim() !== '') return text.trim();
  return typeof unitId === 'number' ? uneceCodeOf(unitId) : undefined;
}
