/** L2-normalises a vector into a Float32Array (cosine similarity becomes a dot product). */
export function normalize(values: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(values);
  let norm = 0;
  for (let i = 0; i < out.length; i++) norm += out[i] * out[i];
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < out.length; i++) out[i] /= norm;
  return out;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/**
 * out = matrix · vector, for a row-major matrix of `out.length` rows and `vector.length` columns
 * (query adapters apply one; their training scores every candidate with one).
 */
export function multiply(matrix: Float32Array | Float64Array, vector: Float32Array | Float64Array, out: Float32Array | Float64Array): void {
  const columns = vector.length;
  for (let row = 0, offset = 0; row < out.length; row++, offset += columns) {
    let sum = 0;
    for (let j = 0; j < columns; j++) sum += matrix[offset + j] * vector[j];
    out[row] = sum;
  }
}
