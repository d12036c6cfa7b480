/**
 * Default cloud-init user data: create the admin user (IM's `cloudadm`) with the infrastructure's
 * public key and passwordless sudo. Used when the engine gives no user data of its own.
 */
export function defaultUserData(adminUser: string, publicKey: string): string {
  return [
    '#cloud-config',
    'users:',
    '  - default',
    `  - name: ${JSON.stringify(adminUser)}`,
    '    sudo: "ALL=(ALL) NOPASSWD:ALL"',
    '    shell: /bin/bash',
    '    lock_passwd: true',
    '    ssh_authorized_keys:',
    `      - ${JSON.stringify(publicKey.trim())}`,
    '',
  ].join('\n');
}
