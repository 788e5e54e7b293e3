// The config loader with the exporter's own kinds, as runtime.ts calls it.
import * as load from '../../exporter/config/load.js';
import { PROBE_KINDS } from '../../exporter/probes/index.js';

type Options = Omit<load.LoadOptions, 'kinds'>;

export const parseConfig = (text: string, file: string, opts: Options = {}) => load.parseConfig(text, file, { kinds: PROBE_KINDS, ...opts });
export const loadConfigFile = (file: string, opts: Options = {}) => load.loadConfigFile(file, { kinds: PROBE_KINDS, ...opts });
