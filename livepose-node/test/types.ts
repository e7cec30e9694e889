// Type-checked by `tsc -p test/tsconfig.json` (npm test): the package's definitions
// describe how it is used. Not run.
import { Pipeline, PipelineOptions, PoseResult, ServeOptions, ServerHandle, decodeResult, encodeFrame, findOnnxruntime, serve, LiveposeError } from '..'

async function usage(jpeg: Buffer): Promise<void> {
  const pipeline = new Pipeline({ model: 'lite', hands: true, mode: 'live', smoothing: 'one_euro', threads: 1, modelsDir: 'models', numPoses: 2 })
  const result: PoseResult = await pipeline.process(jpeg, 33_333)
  const raw: PoseResult = await pipeline.process({ data: new Uint8Array(2 * 2 * 4), width: 2, height: 2 })
  const options: PipelineOptions = { model: 'full', smoothing: 'ema', numPoses: 3 }
  const serveOptions: ServeOptions = { roomToken: 'r', viewToken: 'v', maxFps: 30, allowedOrigins: ['https://a'], heartbeatSecs: 5 }
  void [raw, options, serveOptions]
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
