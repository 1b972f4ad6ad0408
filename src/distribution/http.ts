// undici, loaded on the first registry request: most berthd runs never pull or push, and the
// library is a good part of the daemon's start-up memory.
import type { Agent, Dispatcher } from 'undici';

let mod: Promise<typeof import('undici')> | undefined;
const undici = (): Promise<typeof import('undici')> => (mod ??= import('undici'));

export type RequestOptions = { dispatcher: Agent } & Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & { method?: Dispatcher.HttpMethod };

export async function httpRequest(url: string | URL, opts: RequestOptions): Promise<Dispatcher.ResponseData> {
  return (await undici()).request(url, opts as never);
}

export async function newAgent(opts: Agent.Options): Promise<Agent> {
  return new (await undici()).Agent(opts);
}
