// Type-checked by `tsc -p test/tsconfig.json` (npm test): the package's definitions
// describe how it is used. Not run.
import { Pipeline, PoseResult, ServerHandle, decodeResult, encodeFrame, findOnnxruntime, serve, LiveposeError } from '..'

async function usage(jpeg: Buffer): Promise<void> {
  const pipeline = new Pipeline({ model: 'lite', hands: true, mode: 'live', smoothing: 'one_euro', threads: 1, modelsDir: 'models', numPoses: 2 })
  const result: PoseResult = await pipeline.process(jpeg, 33_333)
  const x: number = result.poses[0].landmarks[0]
  const world: Float32Array = result.poses[0].worldLandmarks
  const total: number = result.timings.total
  const elbow = result.poses[0].angles.find((a) => a.name === 'left_elbow')?.degrees
  const side: string | undefined = result.poses[0].hands[0]?.handedness
  const message: Buffer = encodeFrame(jpeg, { sequence: 7, captureTsUs: 1_000n, format: 'jpeg' })
  const decoded = decodeResult(message)
  const sequence: bigint = decoded.sequence
  const server: ServerHandle = await serve({ port: 0, modelsDir: 'models', workers: 2, token: 'secret' })
  const url: string = server.url
  await server.close()
  const library: string | null = findOnnxruntime()
  try {
    pipeline.reset()
  } catch (e) {
    const code = (e as LiveposeError).code
    void code
  }
  void [x, world, total, elbow, side, sequence, url, library]
}
void usage
