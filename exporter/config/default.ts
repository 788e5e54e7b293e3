// The built-in config used when no --config.file is given: this host and the exporter itself.
// It goes through the same parser as user configs, so it can never drift from the schema.
export const DEFAULT_CONFIG_YAML = `
defaults:
  interval: 15s
  timeout: 10s
components:
  - name: host
    description: This machine's CPU, memory and disks
  - name: vigil
    description: The Vigil exporter itself
checks:
  - name: cpu
    type: system
    component: host
    collect: [cpu, load]
  - name: memory
    type: system
    component: host
    collect: [memory]
  - name: disk
    type: system
    component: host
    interval: 60s
    collect: [disk]
  - name: exporter
    type: process
    component: vigil
`;
