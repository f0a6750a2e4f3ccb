/**
 * Test helper: the X desktop most agent tests start from, a private Xvfb with one painting client
 * (Painter) connected to it.
 */
import { Painter } from './painter.js';
import { startXvfb, type Xvfb } from './xvfb.js';

export class XDesktop {
  private constructor(
    readonly xvfb: Xvfb,
    readonly painter: Painter,
  ) {}

  static async start(width: number, height: number): Promise<XDesktop> {
    const xvfb = await startXvfb(width, height);
    try {
      return new XDesktop(xvfb, await Painter.open(xvfb.display));
    } catch (e) {
      await xvfb.stop();
      throw e;
    }
  }

  get display(): string {
    return this.xvfb.display;
  }

  /** The environment for a command on this display (xdotool, xrandr, the agent's CLI). */
  env(): NodeJS.ProcessEnv {
    return { ...process.env, DISPLAY: this.xvfb.display };
  }

  /** The painter's connection first, then the X server. */
  async stop(): Promise<void> {
    await this.painter.close();
    await this.xvfb.stop();
  }
}
