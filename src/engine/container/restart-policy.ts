// Restart policies as dockerd 20.10 checks them (runconfig's validateRestartPolicy, called from
// verifyContainerSettings at create and at update): each text is moby's, so a client that
// matches on them sees the same answer from berthd.
import { InvalidParameter } from '../../errors.ts';

export interface RestartPolicy { Name: string; MaximumRetryCount: number }

/** '' and 'no' both mean "never restart" (moby RestartPolicy.IsNone). */
export function isNoRestart(p: RestartPolicy | undefined): boolean {
  return !p || p.Name === '' || p.Name === 'no';
}

/** Refuses an unknown policy, a retry count on a policy that has none, or a negative count. */
export function validateRestartPolicy(p: RestartPolicy): void {
  switch (p.Name) {
    case 'always': case 'unless-stopped': case 'no':
      if (p.MaximumRetryCount !== 0) throw new InvalidParameter(`maximum retry count cannot be used with restart policy '${p.Name}'`);
      return;
    case 'on-failure':
      if (p.MaximumRetryCount < 0) throw new InvalidParameter('maximum retry count cannot be negative');
      return;
    case '':
      return;
    default:
      throw new InvalidParameter(`invalid restart policy '${p.Name}'`);
  }
}
