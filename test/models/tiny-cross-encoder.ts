import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';

/** The part of onnx.proto a one-graph model needs (field numbers as in onnx/onnx.proto). */
const ONNX_PROTO = `
syntax = "proto3";
message AttributeProto { string name = 1; int64 i = 3; repeated int64 ints = 8; int32 type = 20; }
message NodeProto { repeated string input = 1; repeated string output = 2; string name = 3; string op_type = 4; repeated AttributeProto attribute = 5; }
message TensorProto { repeated int64 dims = 1; int32 data_type = 2; repeated float float_data = 4 [packed = true]; string name = 8; }
message Dimension { int64 dim_value = 1; string dim_param = 2; }
message TensorShapeProto { repeated Dimension dim = 1; }
message TensorTypeProto { int32 elem_type = 1; TensorShapeProto shape = 2; }
message TypeProto { TensorTypeProto tensor_type = 1; }
message ValueInfoProto { string name = 1; TypeProto type = 2; }
message GraphProto { repeated NodeProto node = 1; string name = 2; repeated TensorProto initializer = 5; repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12; }
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message ModelProto { int64 ir_version = 1; GraphProto graph = 7; repeated OperatorSetIdProto opset_import = 8; }
`;

const FLOAT = 1;
const INT64 = 7;
const INTS = 7;
const INT = 2;

/**
 * Writes a cross-encoder-shaped model directory: a BERT sequence classifier (config.json), the
 * tokenizer of `tokenizerDir`, and onnx/model.onnx taking input_ids and attention_mask and giving
 * one logit per pair: the sum of a weight per token (Gather, masked, ReduceSum over the sequence).
 * Tokens listed in `weights` count; all others weigh 0.
 */
export function writeTinyCrossEncoder(dir: string, tokenizerDir: string, weights: Record<string, number>): void {
  const tokenizer = JSON.parse(readFileSync(join(tokenizerDir, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
  const vocab = tokenizer.model.vocab;
  const table = new Array<number>(Object.keys(vocab).length).fill(0);
  for (const [token, weight] of Object.entries(weights)) table[vocab[token]] = weight;
  const root = protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
  const Model = root.lookupType('ModelProto');
  const tensor = (name: string, elemType: number, dims: Array<{ dim_param?: string; dim_value?: number }>) => ({
    name,
    type: { tensor_type: { elem_type: elemType, shape: { dim: dims } } },
  });
  const batchBySequence = [{ dim_param: 'batch' }, { dim_param: 'sequence' }];
  const model = {
    ir_version: 7,
    opset_import: [{ domain: '', version: 11 }],
    graph: {
      name: 'tiny-cross-encoder',
      initializer: [{ name: 'token_weight', dims: [table.length], data_type: FLOAT, float_data: table }],
      node: [
        { op_type: 'Gather', input: ['token_weight', 'input_ids'], output: ['per_token'], name: 'gather' },
        { op_type: 'Cast', input: ['attention_mask'], output: ['mask'], name: 'cast', attribute: [{ name: 'to', i: FLOAT, type: INT }] },
        { op_type: 'Mul', input: ['per_token', 'mask'], output: ['masked'], name: 'mul' },
        { op_type: 'ReduceSum', input: ['masked'], output: ['logits'], name: 'sum', attribute: [{ name: 'axes', ints: [1], type: INTS }, { name: 'keepdims', i: 1, type: INT }] },
      ],
      input: [tensor('input_ids', INT64, batchBySequence), tensor('attention_mask', INT64, batchBySequence)],
      output: [tensor('logits', FLOAT, [{ dim_param: 'batch' }, { dim_value: 1 }])],
    },
  };
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(join(dir, 'onnx', 'model.onnx'), Model.encode(Model.fromObject(model)).finish());
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ model_type: 'bert', architectures: ['BertForSequenceClassification'], num_labels: 1, id2label: { 0: 'LABEL_0' }, label2id: { LABEL_0: 0 } }),
  );
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(tokenizerDir, file), join(dir, file));
}
