// The first checks of a create body, worded as moby's: the wrapper embeds *container.Config, so
// Go allocates a Config only when the body names one of its fields, and dockerd refuses a body
// that names none (`{}`, `null`, only HostConfig) with "Config cannot be empty …".
import { InvalidParameter } from '../../errors.ts';
import { containerConfigFields } from '../../types/go-wire-types.ts';

const configKeys = new Set(Object.keys(containerConfigFields).map((k) => k.toLowerCase()));

/**
 * `input` is the decoded body (api/decode/containers.ts): the decoder keeps exactly the keys the
 * client sent, so which Config fields were named is read from its keys.
 */
export function checkConfigPresent<T extends { Image?: string | null; Cmd?: string[] | null; Entrypoint?: string[] | null }>(
  input: T,
): asserts input is T & { Image: string } {
  // Go's decoder matches field names case-insensitively, so `{"image":…}` names the Config too.
  const named = Object.keys(input).some((k) => configKeys.has(k.toLowerCase()));
  if (!named) throw new InvalidParameter('Config cannot be empty in order to create a container');
  if (input.Image) return;
  // With no image dockerd has nothing to merge, so without a command it stops where berthd would
  // (mergeAndVerifyConfig). dockerd 20.10 even creates a container without an image when a
  // command is given; berthd has no root filesystem to give it, so it refuses that.
  if (!input.Cmd?.length && !input.Entrypoint?.length) throw new InvalidParameter('No command specified');
  throw new InvalidParameter('a container needs an image: Image is empty');
}
