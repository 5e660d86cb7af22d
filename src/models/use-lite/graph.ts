import * as core from '@energetic-ai/core';

// @energetic-ai/core bundles tfjs but its type declarations point at @tensorflow packages that are
// not installed: the few functions used here are typed by hand.
interface Tensor {
  data(): Promise<ArrayLike<number>>;
  dispose(): void;
}
interface GraphModel {
  executeAsync(inputs: Record<string, Tensor>): Promise<Tensor | Tensor[]>;
}
const tf = core as unknown as {
  tensor1d(values: number[], dtype: 'int32'): Tensor;
  tensor2d(values: number[], shape: [number, number], dtype: 'int32'): Tensor;
};

/**
 * Runs use-lite's graph on token ids (one list per input), as the package does after tokenising:
 * a sparse (row, position) -> id input. One vector per input, not normalised.
 */
export async function runUseLiteGraph(graph: unknown, inputs: number[][]): Promise<Float32Array[]> {
  const positions: number[] = [];
  const ids: number[] = [];
  inputs.forEach((list, row) => {
    // An input with no ids would shift every later row (the graph sizes its output by the last row
    // seen): it is read as one unknown token instead.
    (list.length === 0 ? [0] : list).forEach((id, position) => {
      positions.push(row, position);
      ids.push(id);
    });
  });
  const indices = tf.tensor2d(positions, [ids.length, 2], 'int32');
  const values = tf.tensor1d(ids, 'int32');
  try {
    const output = (await (graph as GraphModel).executeAsync({ indices, values })) as Tensor;
    const data = (await output.data()) as Float32Array;
    output.dispose();
    const dimensions = data.length / inputs.length;
    return inputs.map((_, row) => data.slice(row * dimensions, (row + 1) * dimensions));
  } finally {
    indices.dispose();
    values.dispose();
  }
}
