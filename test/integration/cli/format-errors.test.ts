// Bad --format templates and inspect templates in the network, volume, image and system
// commands: berth's status, stdout and stderr equal the Docker CLI's against the same berthd.
import { describe, it, before, after } from 'node:test';
import { TestDaemon, makeBusybox } from '../../helpers/daemon.ts';
import { berthCli, BERTH } from '../../helpers/berth-cli.ts';

describe('berth --format errors', () => {
  const d = new TestDaemon();
  /** The same command through both CLIs: same status, stdout and stderr (docker → berth). */
  const { same } = berthCli(d, { bin: process.env.BERTH_TEST_BIN || BERTH, env: { ...d.env, DOCKER_HOST: '' } });
  /** Every template through every command prefix. */
  const each = async (prefixes: string[][], templates: string[], suffix: string[] = []): Promise<void> => {
    for (const p of prefixes) for (const t of templates) await same([...p, t, ...suffix]);
  };

  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  it('parse errors: Go\'s wording, status 1 for lists and 64 for inspect', async () => {
    const bad = ['{{.Nope', '{{json.}}', '{{nope}}', '{{if}}', '{{end}}', "{{'ab'}}", '{{.Name -}', '{{3a}}',
      '{{range $i, $e, $f := .}}{{end}}', '{{range .}}{{break 1}}{{end}}', '{{.Name nil.}}', '{{if .Name}}{{else "abcdefghijklmnop"}}{{end}}'];
    await each([['network', 'ls', '--format'], ['volume', 'ls', '--format'], ['images', '--format']], bad.slice(0, 4));
    await each([['network', 'ls', '--format']], bad.slice(4));
    // inspect checks the template before asking the daemon
    await each([['network', 'inspect', '-f'], ['volume', 'inspect', '-f'], ['image', 'inspect', '-f']], ['{{.Nope', '{{json.}}'], ['nosuch']);
    await each([['version', '-f'], ['info', '-f'], ['system', 'df', '--format'], ['system', 'df', '-v', '--format'], ['events', '--format']], ['{{.Nope', '{{json.}}']);
  });

  it('list templates name docker\'s format contexts, and only fail when there is a row', async () => {
    await d.docker(['volume', 'create', 'fev1']);
    await d.docker(['network', 'create', '--label', 'a=b', 'fen1']);
    const lists = [['network', 'ls', '-f', 'name=fen1', '--format'], ['volume', 'ls', '--format'], ['images', '--format'], ['system', 'df', '--format']];
    await each(lists, ['{{.Nope}}', 'table {{.Nope}}', '{{.Name}}{{.Nope}}', '{{json .Nope}}', '{{.Name.X}}', '{{$x := 1}}{{$x.Y}}']);
    await each([['network', 'ls', '-f', 'name=nothing', '--format'], ['images', '-f', 'reference=nothing', '--format']], ['{{.Nope}}', 'table {{.Nope}}']);
    await each([['network', 'ls', '-f', 'name=fen1', '--format']], [
      '{{.Label "a" "b"}}', '{{.Label 1}}', '{{.Label nil}}', '{{.Label true}}', '{{1 | .Label}}', '{{.Name 1}}', '{{3 | .Name}}',
      '{{template "x"}}', '{{template "x" .Name}}', '{{call .Name}}', '{{len}}', '{{len 1 2}}', '{{eq 1}}', '{{split 1 ","}}',
      '{{split nil ","}}', '{{truncate .Name "a"}}', '{{truncate .Name 1.5}}', '{{with .Name}}{{.X}}{{end}}',
      '{{range split .Name "f"}}{{.X}}{{end}}', '{{(.Name).X}}', '{{$.Name.X}}',
    ]);
    await same(['history', '--format', '{{.Nope}}', 'busybox']);
  });

  it('inspect templates: typed structs, the raw fallback, and what prints around errors', async () => {
    const templates = ['{{.Nope}}', '{{.Name}}{{.Nope}}', '{{.Name.X}}', '{{.Labels.zz}}', '{{len .Nope}}', 'json', '{{.Name}}'];
    await each([['network', 'inspect', '-f'], ['volume', 'inspect', '-f']], templates, ['nosuch']);
    await each([['network', 'inspect', '-f']], [...templates, '{{.ID}}', '{{.IPAM.Nope}}', '{{.Peers}}|{{.Services}}', '{{json .}}'], ['fen1', 'nosuch', 'bridge']);
    await each([['volume', 'inspect', '-f']], [...templates, '{{.Status.x}}', '{{json .}}'], ['fev1', 'nosuch', 'fev1']);
    await each([['image', 'inspect', '-f']],
      ['{{.ID}}', '{{.Id.X}}', '{{.Config.Nope}}', '{{.Config.Labels.zz}}', '{{json .Config}}', '{{.Size 1}}', '{{.Architecture}}{{.Nope}}'],
      ['busybox', 'nosuch']);
  });

  it('version, info, system df -v and events print what ran, then Go\'s error', async () => {
    const templates = ['{{.Nope}}', '{{.Server.Nope}}', '{{.Client.Nope}}', '{{.Name.X}}', '{{.ClientInfo.Nope}}'];
    await each([['version', '-f'], ['info', '-f']], templates);
    await same(['version', '-f', '{{.Client.APIVersion}}{{.Nope}}']);
    await each([['system', 'df', '-v', '--format']], ['{{len .Images}}{{.Nope}}', '{{.Name.X}}', '{{range .Volumes}}{{.Nope}}{{end}}', 'table {{len .Volumes}}\\t{{.Nope}}']);
    const until = String(Math.floor(Date.now() / 1000) + 1);
    await each([['events', '--since', '0', '--until', until, '--format']],
      ['{{.Nope}}', '{{.Type}}{{.Nope}}', '{{.Actor.Nope}}', '{{.Actor.ID.X}}', '{{.Status}}|{{.ID}}|{{.From}}|{{.Scope}}', '{{.Actor.Attributes.nope}}']);
  });
});
