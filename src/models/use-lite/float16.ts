/**
 * IEEE half-precision encoding for the distilled static model (halves its size on disk; Node 20
 * has no Float16Array). Round to nearest; values beyond the half range saturate to infinity,
 * which no unit-scale embedding reaches.
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function toFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    const x = u32[0];
    const sign = (x >>> 16) & 0x8000;
    const exponent = ((x >>> 23) & 0xff) - 127 + 15;
    let mantissa = x & 0x7fffff;
    if (exponent <= 0) {
      // Subnormal half (or zero).
      if (exponent < -10) out[i] = sign;
      else {
        mantissa |= 0x800000;
        out[i] = sign | ((mantissa >> (14 - exponent)) + ((mantissa >> (13 - exponent)) & 1));
      }
    } else if (exponent >= 31) out[i] = sign | 0x7c00;
    else out[i] = sign | ((exponent << 10) + (mantissa >> 13) + ((mantissa >> 12) & 1));
  }
  return out;
}

export function fromFloat16(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) {
    const h = halves[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) out[i] = sign * 2 ** -14 * (mantissa / 1024);
    else if (exponent === 31) out[i] = mantissa ? NaN : sign * Infinity;
    else out[i] = sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
  }
  return out;
}
