/**
 * Host profiles: what the osquery tables of a simulated host contain. A profile is one platform, one
 * OS release and a set of failing "facets" (firewall off, disk not encrypted, …). Hosts that share a
 * profile share one SQLite database; values that differ per host (serial, UUID, hostname, …) are
 * stored as tokens and replaced in the result rows of each host (see `identityValue`).
 */
import type { HostIdentity, SimPlatform } from './identity.js';

/** A table row as the simulator writes it: column → value (numbers stored as numbers, read back as strings). */
export type TableRow = Record<string, string | number>;

export interface Profile {
  id: number;
  /** e.g. `darwin-15.2` or `darwin-15.2+firewall_off`. */
  name: string;
  platform: SimPlatform;
  /** OS label for people, e.g. "macOS 15.2". */
  os: string;
  /** Failing facets (empty: compliant). An outdated OS is the facet `os_outdated`. */
  facets: string[];
  tables: Record<string, TableRow[]>;
}

/** Marker that starts a per-host token. Values equal to a token are replaced by the host's own value. */
export const TOKEN_MARK = '\u0001';
const tok = (name: string): string => TOKEN_MARK + name;

/** The value of a token for one host; undefined if the string is not a token. */
export function identityValue(id: HostIdentity, token: string): string | undefined {
  switch (token.slice(1)) {
    case 'serial':
      return id.serial;
    case 'uuid':
      return id.uuid;
    case 'instance_id':
      return id.instanceId;
    case 'hostname':
      return id.hostname;
    case 'computer_name':
      return id.computerName;
    case 'local_hostname':
      return id.localHostname;
    case 'vendor':
      return id.vendor;
    case 'model':
      return id.model;
    case 'hardware_version':
      return id.hardwareVersion;
    case 'board_serial':
      return id.boardSerial;
    case 'cpu_brand':
      return id.cpuBrand;
    case 'cpu_type':
      return id.cpuType;
    case 'cpu_subtype':
      return id.cpuSubtype;
    case 'physical_cores':
      return String(id.physicalCores);
    case 'logical_cores':
      return String(id.logicalCores);
    case 'physical_memory':
      return id.physicalMemory;
    case 'arch':
      return id.arch;
    case 'osquery_version':
      return id.osqueryVersion;
    case 'pid':
      return String(id.pid);
    case 'watcher':
      return String(id.pid - 1);
    case 'fw_vendor':
      return id.firmware.vendor;
    case 'fw_version':
      return id.firmware.version;
    case 'fw_date':
      return id.firmware.date;
    case 'fw_revision':
      return id.firmware.revision;
    case 'fw_extra':
      return id.firmware.extra;
    case 'fw_address':
      return id.firmware.address;
    case 'fw_size':
      return id.firmware.size;
    case 'fw_volume_size':
      return id.firmware.volumeSize;
    case 'fw_type':
      return id.firmware.firmwareType;
    case 'username':
      return id.hostname.split(/[-.]/)[0] ?? 'user';
    default:
      return undefined;
  }
}

// ───────────────────────────── OS releases ─────────────────────────────

interface OsRelease {
  key: string;
  label: string;
  row: TableRow;
  kernel: string;
  outdated: boolean;
  weight: number;
}

const mac = (version: string, build: string, codename: string, weight: number, outdated = false): OsRelease => {
  const [major = '0', minor = '0', patch = '0'] = version.split('.');
  return {
    key: version,
    label: `macOS ${version}`,
    outdated,
    weight,
    kernel: `${Number(major) + 9}.${minor}.0`,
    row: {
      name: 'macOS',
      version,
      major: Number(major),
      minor: Number(minor),
      patch: Number(patch),
      build,
      platform: 'darwin',
      platform_like: 'darwin',
      codename,
      arch: 'arm64',
      extra: '',
      install_date: '',
      revision: '',
    },
  };
};
const win = (name: string, build: number, ubr: number, weight: number, outdated = false): OsRelease => ({
  key: `${build}.${ubr}`,
  label: `${name} (10.0.${build}.${ubr})`,
  outdated,
  weight,
  kernel: `10.0.${build}.${ubr}`,
  row: {
    name,
    version: `10.0.${build}`,
    major: 10,
    minor: 0,
    patch: '',
    build: String(build),
    platform: 'windows',
    platform_like: 'windows',
    codename: name,
    arch: '64-bit',
    extra: '',
    install_date: 1704067200 + (build % 97) * 86400,
    revision: ubr,
  },
});
const lin = (
  name: string,
  version: string,
  major: number,
  minor: number,
  codename: string,
  platform: string,
  like: string,
  kernel: string,
  weight: number,
  outdated = false,
): OsRelease => ({
  key: `${platform}-${major}.${minor}`,
  label: `${name} ${version}`,
  outdated,
  weight,
  kernel,
  row: {
    name,
    version,
    major,
    minor,
    patch: 0,
    build: '',
    platform,
    platform_like: like,
    codename,
    arch: 'x86_64',
    extra: '',
    install_date: '',
    revision: '',
  },
});

export const OS_RELEASES: Readonly<Record<SimPlatform, readonly OsRelease[]>> = {
  darwin: [
    mac('15.2', '24C101', 'Sequoia', 30),
    mac('15.1.1', '24B91', 'Sequoia', 22),
    mac('14.7.2', '23H311', 'Sonoma', 18),
    mac('14.6.1', '23G93', 'Sonoma', 12),
    mac('13.6.7', '22G720', 'Ventura', 10, true),
    mac('12.7.5', '21H1222', 'Monterey', 8, true),
  ],
  windows: [
    win('Microsoft Windows 11 Enterprise', 26100, 7171, 35),
    win('Microsoft Windows 11 Enterprise', 22631, 6199, 30),
    win('Microsoft Windows 11 Enterprise', 26200, 7171, 10),
    // Windows 10 reached end of support in October 2025.
    win('Microsoft Windows 10 Enterprise', 19045, 6456, 15, true),
    win('Microsoft Windows 11 Pro', 22621, 4890, 10, true),
  ],
  linux: [
    lin('Ubuntu', '24.04.1 LTS (Noble Numbat)', 24, 4, 'noble', 'ubuntu', 'debian', '6.8.0-49-generic', 35),
    lin('Ubuntu', '22.04.5 LTS (Jammy Jellyfish)', 22, 4, 'jammy', 'ubuntu', 'debian', '5.15.0-126-generic', 30),
    lin('Fedora Linux', '41 (Workstation Edition)', 41, 0, '', 'fedora', 'fedora', '6.11.10-300.fc41.x86_64', 10),
    lin('Debian GNU/Linux', '12 (bookworm)', 12, 0, 'bookworm', 'debian', '', '6.1.0-28-amd64', 10),
    lin('Ubuntu', '20.04.6 LTS (Focal Fossa)', 20, 4, 'focal', 'ubuntu', 'debian', '5.4.0-200-generic', 10, true),
    lin('Ubuntu', '18.04.6 LTS (Bionic Beaver)', 18, 4, 'bionic', 'ubuntu', 'debian', '4.15.0-213-generic', 5, true),
  ],
};

// ───────────────────────────── shared tables ─────────────────────────────

function identityTables(platform: SimPlatform, os: OsRelease): Record<string, TableRow[]> {
  const mask = platform === 'darwin' ? 21 : platform === 'windows' ? 2 : 9;
  return {
    os_version: [os.row],
    system_info: [
      {
        hostname: tok('hostname'),
        uuid: tok('uuid'),
        cpu_type: tok('cpu_type'),
        cpu_subtype: tok('cpu_subtype'),
        cpu_brand: tok('cpu_brand'),
        cpu_physical_cores: tok('physical_cores'),
        cpu_logical_cores: tok('logical_cores'),
        cpu_sockets: platform === 'windows' ? 1 : '',
        cpu_microcode: platform === 'darwin' ? '' : '0x4121',
        physical_memory: tok('physical_memory'),
        hardware_vendor: tok('vendor'),
        hardware_model: tok('model'),
        hardware_version: tok('hardware_version'),
        hardware_serial: tok('serial'),
        board_vendor: tok('vendor'),
        board_model: tok('model'),
        board_version: platform === 'darwin' ? '' : 'SDK0J40697 WIN',
        board_serial: tok('board_serial'),
        computer_name: tok('computer_name'),
        local_hostname: tok('local_hostname'),
        ...(platform === 'windows' ? { emulated_cpu_type: '' } : {}),
      },
    ],
    osquery_info: [
      {
        pid: tok('pid'),
        uuid: tok('uuid'),
        instance_id: tok('instance_id'),
        version: tok('osquery_version'),
        config_hash: tok('config_hash'),
        config_valid: tok('config_valid'),
        extensions: 'inactive',
        build_platform: platform,
        build_distro: platform === 'darwin' ? '10.15' : platform === 'windows' ? '10' : 'centos7',
        start_time: 1764230400,
        watcher: platform === 'windows' ? -1 : tok('watcher'),
        platform_mask: mask,
      },
    ],
    platform_info: [
      {
        vendor: tok('fw_vendor'),
        version: tok('fw_version'),
        date: tok('fw_date'),
        revision: tok('fw_revision'),
        extra: tok('fw_extra'),
        firmware_type: tok('fw_type'),
        address: tok('fw_address'),
        size: tok('fw_size'),
        volume_size: tok('fw_volume_size'),
      },
    ],
    kernel_info: [
      {
        version: os.kernel,
        arguments: platform === 'linux' ? 'ro quiet splash' : '',
        path:
          platform === 'linux'
            ? '/boot/vmlinuz'
            : platform === 'darwin'
              ? '/System/Library/Kernels/kernel'
              : 'C:\\Windows\\System32\\ntoskrnl.exe',
        device: platform === 'linux' ? '/dev/nvme0n1p2' : '',
      },
    ],
    uptime: [{ days: 3, hours: 4, minutes: 12, seconds: 9, total_seconds: 274329 }],
    users:
      platform === 'windows'
        ? [
            {
              uid: 500,
              gid: 513,
              uid_signed: 500,
              gid_signed: 513,
              username: 'Administrator',
              description: 'Built-in account for administering the computer/domain',
              directory: '',
              shell: 'C:\\Windows\\system32\\cmd.exe',
              uuid: 'S-1-5-21-1004336348-1177238915-682003330-500',
              type: 'local',
              is_hidden: 0,
            },
            {
              uid: 1001,
              gid: 513,
              uid_signed: 1001,
              gid_signed: 513,
              username: tok('username'),
              description: '',
              directory: 'C:\\Users\\user',
              shell: 'C:\\Windows\\system32\\cmd.exe',
              uuid: 'S-1-5-21-1004336348-1177238915-682003330-1001',
              type: 'local',
              is_hidden: 0,
            },
          ]
        : [
            {
              uid: 0,
              gid: 0,
              uid_signed: 0,
              gid_signed: 0,
              username: 'root',
              description: platform === 'darwin' ? 'System Administrator' : 'root',
              directory: platform === 'darwin' ? '/var/root' : '/root',
              shell: platform === 'darwin' ? '/bin/sh' : '/bin/bash',
              uuid: '',
              type: '',
              is_hidden: 0,
            },
            {
              uid: platform === 'darwin' ? 501 : 1000,
              gid: platform === 'darwin' ? 20 : 1000,
              uid_signed: platform === 'darwin' ? 501 : 1000,
              gid_signed: platform === 'darwin' ? 20 : 1000,
              username: tok('username'),
              description: '',
              directory: platform === 'darwin' ? '/Users/user' : '/home/user',
              shell: '/bin/zsh',
              uuid: '',
              type: '',
              is_hidden: 0,
            },
          ],
    osquery_flags: [
      {
        name: 'logger_plugin',
        type: 'string',
        description: 'Logger plugin name',
        default_value: 'filesystem',
        value: 'tls',
        shell_only: 0,
      },
      {
        name: 'config_plugin',
        type: 'string',
        description: 'Config plugin name',
        default_value: 'filesystem',
        value: 'tls',
        shell_only: 0,
      },
      {
        name: 'disable_distributed',
        type: 'bool',
        description: 'Disable distributed queries',
        default_value: 'true',
        value: 'false',
        shell_only: 0,
      },
    ],
    etc_hosts: [
      { address: '127.0.0.1', hostnames: 'localhost' },
      { address: '::1', hostnames: 'localhost' },
    ],
    interface_addresses: [
      {
        interface: platform === 'darwin' ? 'en0' : platform === 'windows' ? '12' : 'wlp0s20f3',
        address: '10.20.30.40',
        mask: '255.255.255.0',
        broadcast: '10.20.30.255',
        point_to_point: '',
        type: platform === 'windows' ? 'dhcp' : '',
        friendly_name: platform === 'windows' ? 'Wi-Fi' : '',
      },
    ],
    secureboot: [
      {
        secure_boot: 1,
        secure_mode: platform === 'darwin' ? 2 : '',
        description: '',
        kernel_extensions: '',
        mdm_operations: '',
        setup_mode: platform === 'darwin' ? '' : 0,
      },
    ],
  };
}

function proc(pid: number, name: string, path: string, uid = 0): TableRow {
  return {
    pid,
    name,
    path,
    cmdline: path,
    state: 'S',
    cwd: '/',
    root: '/',
    uid,
    gid: uid,
    euid: uid,
    egid: uid,
    suid: uid,
    sgid: uid,
    on_disk: 1,
    wired_size: 0,
    resident_size: 24576000,
    total_size: 420000000,
    user_time: 1200,
    system_time: 800,
    disk_bytes_read: 0,
    disk_bytes_written: 0,
    start_time: 1764230400,
    parent: 1,
    pgroup: pid,
    threads: 4,
    nice: 0,
  };
}

function darwinTables(): Record<string, TableRow[]> {
  return {
    alf: [
      {
        allow_signed_enabled: 1,
        firewall_unload: 0,
        global_state: 1,
        logging_enabled: 1,
        logging_option: 0,
        stealth_enabled: 1,
        version: '1.6',
      },
    ],
    alf_exceptions: [{ path: '/Applications/Zoom.app/', state: 3 }],
    disk_encryption: [
      {
        name: '/dev/disk3s1',
        uuid: 'A1B2C3D4-0000-4000-8000-00000000D3A1',
        encrypted: 1,
        type: 'APFS Encryption',
        encryption_status: 'encrypted',
        uid: '',
        user_uuid: '',
        filevault_status: 'on',
      },
      {
        name: '/dev/disk3s5',
        uuid: 'A1B2C3D4-0000-4000-8000-00000000D3A5',
        encrypted: 1,
        type: 'APFS Encryption',
        encryption_status: 'encrypted',
        uid: '501',
        user_uuid: '5C1F7A92-3B4D-4E6F-8A9B-0C1D2E3F4A5B',
        filevault_status: 'on',
      },
    ],
    mounts: [
      {
        device: '/dev/disk3s1s1',
        device_alias: '/dev/disk3s1s1',
        path: '/',
        type: 'apfs',
        blocks_size: 4096,
        blocks: 242837545,
        blocks_free: 150000000,
        blocks_available: 150000000,
        inodes: 4000000,
        inodes_free: 1500000000,
        flags: '1085325313',
      },
      {
        device: '/dev/disk3s5',
        device_alias: '/dev/disk3s5',
        path: '/System/Volumes/Data',
        type: 'apfs',
        blocks_size: 4096,
        blocks: 242837545,
        blocks_free: 150000000,
        blocks_available: 150000000,
        inodes: 2400000,
        inodes_free: 1500000000,
        flags: '1098907776',
      },
    ],
    sip_config: [
      { config_flag: 'sip', enabled: 1, enabled_nvram: 0 },
      { config_flag: 'allow_untrusted_kexts', enabled: 0, enabled_nvram: 0 },
      { config_flag: 'allow_unrestricted_fs', enabled: 0, enabled_nvram: 0 },
    ],
    gatekeeper: [{ assessments_enabled: 1, dev_id_enabled: 1, version: '5.0', opaque_version: '5.0' }],
    screenlock: [{ enabled: 1, grace_period: 5 }],
    sharing_preferences: [
      {
        screen_sharing: 0,
        file_sharing: 0,
        printer_sharing: 0,
        remote_login: 0,
        remote_management: 0,
        remote_apple_events: 0,
        internet_sharing: 0,
        bluetooth_sharing: 0,
        disc_sharing: 0,
        content_caching: 0,
      },
    ],
    managed_policies: [
      {
        domain: 'com.apple.screensaver',
        uuid: '9C7E1A40-7C3B-4F5A-B0AC-3F1E2D6C8B11',
        name: 'askForPassword',
        value: '1',
        username: '',
        manual: 0,
      },
      {
        domain: 'com.apple.screensaver',
        uuid: '9C7E1A40-7C3B-4F5A-B0AC-3F1E2D6C8B11',
        name: 'idleTime',
        value: '600',
        username: '',
        manual: 0,
      },
    ],
    processes: [
      proc(1, 'launchd', '/sbin/launchd'),
      proc(401, 'osqueryd', '/opt/osquery/lib/osquery.app/Contents/MacOS/osqueryd'),
      proc(612, 'socketfilterfw', '/usr/libexec/ApplicationFirewall/socketfilterfw'),
    ],
    listening_ports: [
      {
        pid: 612,
        port: 5353,
        protocol: 17,
        family: 2,
        address: '0.0.0.0',
        fd: 7,
        socket: 0,
        path: '',
        net_namespace: '',
      },
    ],
    apps: [
      {
        name: 'Safari.app',
        path: '/Applications/Safari.app',
        bundle_executable: 'Safari',
        bundle_identifier: 'com.apple.Safari',
        bundle_name: 'Safari',
        bundle_short_version: '18.2',
        bundle_version: '20620.1.16.11.8',
        bundle_package_type: 'APPL',
        environment: '',
        element: '',
        compiler: 'com.apple.compilers.llvm.clang.1_0',
        development_region: 'en',
        display_name: 'Safari',
        info_string: '',
        minimum_system_version: '14.0',
        category: 'public.app-category.productivity',
        applescript_enabled: '1',
        copyright: '',
        last_opened_time: 1764200000,
      },
      {
        name: 'Google Chrome.app',
        path: '/Applications/Google Chrome.app',
        bundle_executable: 'Google Chrome',
        bundle_identifier: 'com.google.Chrome',
        bundle_name: 'Chrome',
        bundle_short_version: '131.0.6778.140',
        bundle_version: '6778.140',
        bundle_package_type: 'APPL',
        environment: '',
        element: '',
        compiler: '',
        development_region: 'en',
        display_name: 'Google Chrome',
        info_string: '',
        minimum_system_version: '11.0',
        category: 'public.app-category.productivity',
        applescript_enabled: '1',
        copyright: '',
        last_opened_time: 1764210000,
      },
    ],
    launchd: [
      {
        path: '/Library/LaunchDaemons/io.osquery.agent.plist',
        name: 'io.osquery.agent.plist',
        label: 'io.osquery.agent',
        program: '',
        run_at_load: '1',
        keep_alive: '1',
        on_demand: '',
        disabled: '',
        username: '',
        groupname: '',
        stdout_path: '',
        stderr_path: '',
        start_interval: '',
        program_arguments: '/opt/osquery/lib/osquery.app/Contents/MacOS/osqueryd --flagfile /var/osquery/osquery.flags',
        watch_paths: '',
        queue_directories: '',
        inetd_compatibility: '',
        start_on_mount: '',
        root_directory: '',
        working_directory: '',
        process_type: '',
      },
    ],
    xprotect_meta: [
      { identifier: 'com.oracle.java.JavaAppletPlugin', type: 'plugin', developer_id: '', min_version: '1.6.0_45' },
    ],
    block_devices: [
      {
        name: '/dev/disk0',
        parent: '',
        vendor: 'APPLE SSD',
        model: 'AP0512Q',
        serial: '',
        size: 977105060,
        block_size: 512,
        uuid: '',
        type: 'PCI-Express',
        label: '',
      },
    ],
    authorized_keys: [],
  };
}

function windowsTables(): Record<string, TableRow[]> {
  const reg = (key: string, name: string, type: string, data: string): TableRow => ({
    key,
    path: `${key}\\${name}`,
    name,
    type,
    data,
    mtime: 1764230400,
  });
  const fw = 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\SharedAccess\\Parameters\\FirewallPolicy';
  return {
    bitlocker_info: [
      {
        device_id: '\\\\?\\Volume{4d2a3c1b-0000-0000-0000-100000000000}\\',
        drive_letter: 'C:',
        persistent_volume_id: '4D2A3C1B-1A2B-4C3D-9E8F-A1B2C3D4E5F6',
        conversion_status: 1,
        protection_status: 1,
        encryption_method: 'XTS_AES_128',
        version: 2,
        percentage_encrypted: 100,
        lock_status: 0,
      },
    ],
    windows_security_center: [
      {
        firewall: 'Good',
        autoupdate: 'Good',
        antivirus: 'Good',
        internet_settings: 'Good',
        windows_security_center_service: 'Good',
        user_account_control: 'Good',
      },
    ],
    windows_security_products: [
      {
        type: 'Firewall',
        name: 'Windows Firewall',
        state: 'On',
        state_timestamp: '',
        remediation_path: '',
        signatures_up_to_date: 0,
      },
      {
        type: 'Antivirus',
        name: 'Microsoft Defender Antivirus',
        state: 'On',
        state_timestamp: 'Wed, 26 Nov 2026 08:12:40 GMT',
        remediation_path: '%ProgramFiles%\\Windows Defender\\MsMpeng.exe',
        signatures_up_to_date: 1,
      },
    ],
    registry: [
      reg(`${fw}\\DomainProfile`, 'EnableFirewall', 'REG_DWORD', '1'),
      reg(`${fw}\\StandardProfile`, 'EnableFirewall', 'REG_DWORD', '1'),
      reg(`${fw}\\PublicProfile`, 'EnableFirewall', 'REG_DWORD', '1'),
      reg(
        'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server',
        'fDenyTSConnections',
        'REG_DWORD',
        '1',
      ),
      reg(
        'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System',
        'InactivityTimeoutSecs',
        'REG_DWORD',
        '900',
      ),
      reg(
        'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System',
        'EnableLUA',
        'REG_DWORD',
        '1',
      ),
      reg(
        'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\Control Panel\\Desktop',
        'ScreenSaverIsSecure',
        'REG_SZ',
        '1',
      ),
      reg(
        'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\Control Panel\\Desktop',
        'ScreenSaveTimeOut',
        'REG_SZ',
        '900',
      ),
    ],
    services: [
      {
        name: 'mpssvc',
        service_type: 'OWN_PROCESS',
        display_name: 'Windows Defender Firewall',
        status: 'RUNNING',
        pid: 3116,
        start_type: 'AUTO_START',
        win32_exit_code: 0,
        service_exit_code: 0,
        path: 'C:\\Windows\\system32\\svchost.exe -k LocalServiceNoNetworkFirewall -p',
        module_path: 'C:\\Windows\\system32\\mpssvc.dll',
        description: 'Windows Defender Firewall helps protect your computer',
        user_account: 'NT Authority\\LocalService',
      },
      {
        name: 'TermService',
        service_type: 'SHARE_PROCESS',
        display_name: 'Remote Desktop Services',
        status: 'STOPPED',
        pid: 0,
        start_type: 'DEMAND_START',
        win32_exit_code: 1077,
        service_exit_code: 0,
        path: 'C:\\Windows\\System32\\svchost.exe -k NetworkService',
        module_path: 'C:\\Windows\\System32\\termsrv.dll',
        description: 'Allows users to connect interactively to a remote computer.',
        user_account: 'NT Authority\\NetworkService',
      },
      {
        name: 'WinDefend',
        service_type: 'OWN_PROCESS',
        display_name: 'Microsoft Defender Antivirus Service',
        status: 'RUNNING',
        pid: 4012,
        start_type: 'AUTO_START',
        win32_exit_code: 0,
        service_exit_code: 0,
        path: '"C:\\ProgramData\\Microsoft\\Windows Defender\\platform\\4.18.24090.11-0\\MsMpEng.exe"',
        module_path: '',
        description: 'Helps protect users from malware',
        user_account: 'LocalSystem',
      },
      {
        name: 'osqueryd',
        service_type: 'OWN_PROCESS',
        display_name: 'osqueryd',
        status: 'RUNNING',
        pid: 5120,
        start_type: 'AUTO_START',
        win32_exit_code: 0,
        service_exit_code: 0,
        path: '"C:\\Program Files\\osquery\\osqueryd\\osqueryd.exe" --flagfile="C:\\Program Files\\osquery\\osquery.flags"',
        module_path: '',
        description: 'osquery daemon',
        user_account: 'LocalSystem',
      },
    ],
    windows_firewall_rules: [
      {
        name: 'Core Networking - DNS (UDP-Out)',
        app_name: '%SystemRoot%\\system32\\svchost.exe',
        action: 'Allow',
        enabled: 1,
        grouping: 'Core Networking',
        direction: 'Out',
        protocol: 'UDP',
        local_addresses: '*',
        remote_addresses: '*',
        local_ports: '*',
        remote_ports: '53',
        icmp_types_codes: '',
        profile_domain: 1,
        profile_private: 1,
        profile_public: 1,
        service_name: 'dnscache',
      },
    ],
    tpm_info: [
      {
        activated: 1,
        enabled: 1,
        owned: 1,
        manufacturer_version: '7.2.3.1',
        manufacturer_id: 1229346816,
        manufacturer_name: 'IFX',
        product_name: '',
        physical_presence_version: '1.3',
        spec_version: '2.0, 0, 1.59',
      },
    ],
    patches: [
      {
        csname: tok('hostname'),
        hotfix_id: 'KB5046633',
        caption: 'http://support.microsoft.com/?kbid=5046633',
        description: 'Security Update',
        fix_comments: '',
        installed_by: 'NT AUTHORITY\\SYSTEM',
        install_date: '',
        installed_on: '11/13/2026',
      },
    ],
    programs: [
      {
        name: 'Google Chrome',
        version: '131.0.6778.140',
        install_location: 'C:\\Program Files\\Google\\Chrome\\Application',
        install_source: '',
        language: '',
        publisher: 'Google LLC',
        uninstall_string: '',
        install_date: '20261120',
        identifying_number: '',
        package_family_name: '',
        upgrade_code: '',
      },
    ],
    processes: [
      proc(4, 'System', ''),
      proc(5120, 'osqueryd.exe', 'C:\\Program Files\\osquery\\osqueryd\\osqueryd.exe'),
      proc(4012, 'MsMpEng.exe', 'C:\\ProgramData\\Microsoft\\Windows Defender\\platform\\4.18.24090.11-0\\MsMpEng.exe'),
    ],
    listening_ports: [
      {
        pid: 1012,
        port: 135,
        protocol: 6,
        family: 2,
        address: '0.0.0.0',
        fd: -1,
        socket: -1,
        path: '',
        net_namespace: '',
      },
    ],
  };
}

function linuxTables(os: OsRelease): Record<string, TableRow[]> {
  const unit = (id: string, description: string, active: boolean, enabled = active): TableRow => ({
    id,
    description,
    load_state: 'loaded',
    active_state: active ? 'active' : 'inactive',
    sub_state: active ? 'running' : 'dead',
    unit_file_state: enabled ? 'enabled' : 'disabled',
    following: '',
    object_path: `/org/freedesktop/systemd1/unit/${id.replace(/[.-]/g, '_')}`,
    job_id: 0,
    job_type: '',
    job_path: '/',
    fragment_path: `/usr/lib/systemd/system/${id}`,
    user: '',
    source_path: '',
  });
  const deb = String(os.row['platform_like']) === 'debian' || String(os.row['platform']) === 'debian';
  return {
    disk_encryption: [
      {
        name: '/dev/dm-0',
        uuid: '',
        encrypted: 1,
        type: 'luks2',
        encryption_status: 'encrypted',
        uid: '',
        user_uuid: '',
        filevault_status: '',
      },
      {
        name: '/dev/dm-1',
        uuid: '',
        encrypted: 1,
        type: 'luks2',
        encryption_status: 'encrypted',
        uid: '',
        user_uuid: '',
        filevault_status: '',
      },
      {
        name: '/dev/nvme0n1p1',
        uuid: '',
        encrypted: 0,
        type: '',
        encryption_status: 'not encrypted',
        uid: '',
        user_uuid: '',
        filevault_status: '',
      },
    ],
    mounts: [
      {
        device: '/dev/mapper/vgubuntu-root',
        device_alias: '/dev/dm-1',
        path: '/',
        type: 'ext4',
        blocks_size: 4096,
        blocks: 122000000,
        blocks_free: 80000000,
        blocks_available: 74000000,
        inodes: 31000000,
        inodes_free: 29000000,
        flags: 'rw,relatime',
      },
      {
        device: '/dev/nvme0n1p1',
        device_alias: '/dev/nvme0n1p1',
        path: '/boot/efi',
        type: 'vfat',
        blocks_size: 4096,
        blocks: 130000,
        blocks_free: 120000,
        blocks_available: 120000,
        inodes: 0,
        inodes_free: 0,
        flags: 'rw,relatime',
      },
    ],
    block_devices: [
      {
        name: '/dev/nvme0n1',
        parent: '',
        vendor: '',
        model: 'SAMSUNG MZVL2512HCJQ-00BL7',
        serial: '',
        size: 1000215216,
        block_size: 512,
        uuid: '',
        type: '',
        label: '',
      },
      {
        name: '/dev/dm-0',
        parent: '/dev/nvme0n1p3',
        vendor: '',
        model: '',
        serial: '',
        size: 997000000,
        block_size: 512,
        uuid: '7d1c2b3a-1111-4222-8333-944455556666',
        type: 'crypto_LUKS',
        label: '',
      },
    ],
    iptables: [
      {
        filter_name: 'filter',
        chain: 'INPUT',
        policy: 'DROP',
        target: '',
        protocol: 0,
        src_port: '0:65535',
        dst_port: '0:65535',
        src_ip: '0.0.0.0',
        src_mask: '0.0.0.0',
        iniface: 'all',
        iniface_mask: '',
        dst_ip: '0.0.0.0',
        dst_mask: '0.0.0.0',
        outiface: 'all',
        outiface_mask: '',
        match: 'no',
        packets: 0,
        bytes: 0,
      },
      {
        filter_name: 'filter',
        chain: 'INPUT',
        policy: 'DROP',
        target: 'ufw-before-input',
        protocol: 0,
        src_port: '0:65535',
        dst_port: '0:65535',
        src_ip: '0.0.0.0',
        src_mask: '0.0.0.0',
        iniface: 'all',
        iniface_mask: '',
        dst_ip: '0.0.0.0',
        dst_mask: '0.0.0.0',
        outiface: 'all',
        outiface_mask: '',
        match: 'no',
        packets: 120394,
        bytes: 98311020,
      },
    ],
    systemd_units: [
      unit('ufw.service', 'Uncomplicated firewall', true),
      unit('ssh.service', 'OpenBSD Secure Shell server', false),
      unit('osqueryd.service', 'The osquery Daemon', true),
      unit('systemd-timesyncd.service', 'Network Time Synchronization', true),
    ],
    processes: [proc(1, 'systemd', '/usr/lib/systemd/systemd'), proc(812, 'osqueryd', '/opt/osquery/bin/osqueryd')],
    listening_ports: [
      {
        pid: 620,
        port: 53,
        protocol: 17,
        family: 2,
        address: '127.0.0.53',
        fd: 13,
        socket: 23104,
        path: '',
        net_namespace: '4026531840',
      },
    ],
    ...(deb
      ? {
          deb_packages: [
            {
              name: 'openssh-client',
              version: '1:9.6p1-3ubuntu13.5',
              source: 'openssh',
              size: 4167,
              arch: 'amd64',
              revision: '3ubuntu13.5',
              status: 'install ok installed',
              maintainer: 'Ubuntu Developers',
              section: 'net',
              priority: 'standard',
              admindir: '/var/lib/dpkg',
            },
            {
              name: 'osquery',
              version: '5.14.1-1.linux',
              source: '',
              size: 0,
              arch: 'amd64',
              revision: '1.linux',
              status: 'install ok installed',
              maintainer: 'osquery',
              section: 'default',
              priority: 'extra',
              admindir: '/var/lib/dpkg',
            },
          ],
        }
      : {
          rpm_packages: [
            {
              name: 'openssh-clients',
              version: '9.8p1',
              release: '1.fc41.1',
              source: '',
              size: 2700000,
              sha1: '',
              arch: 'x86_64',
              epoch: '',
              install_time: 1763000000,
              vendor: 'Fedora Project',
              package_group: 'Unspecified',
            },
          ],
        }),
    authorized_keys: [],
  };
}

// ───────────────────────────── facets ─────────────────────────────

type Patch = (t: Record<string, TableRow[]>) => void;
const setAll = (rows: TableRow[] | undefined, values: TableRow, where?: (r: TableRow) => boolean): void => {
  for (const r of rows ?? []) if (!where || where(r)) Object.assign(r, values);
};

/** Failing facets per platform and what they do to the tables. */
export const FACETS: Readonly<Record<SimPlatform, Readonly<Record<string, Patch>>>> = {
  darwin: {
    firewall_off: (t) => setAll(t['alf'], { global_state: 0, stealth_enabled: 0 }),
    disk_unencrypted: (t) =>
      setAll(t['disk_encryption'], {
        encrypted: 0,
        type: '',
        encryption_status: 'not encrypted',
        filevault_status: 'off',
      }),
    encryption_in_progress: (t) =>
      setAll(t['disk_encryption'], { encrypted: 0, encryption_status: 'encrypting', filevault_status: 'encrypting' }),
    remote_login_on: (t) => {
      setAll(t['sharing_preferences'], { remote_login: 1 });
      t['listening_ports']?.push({
        pid: 1,
        port: 22,
        protocol: 6,
        family: 2,
        address: '0.0.0.0',
        fd: 5,
        socket: 0,
        path: '',
        net_namespace: '',
      });
    },
    screenlock_off: (t) => {
      setAll(t['screenlock'], { enabled: 0, grace_period: 2147483647 });
      t['managed_policies'] = [];
    },
    sip_off: (t) => setAll(t['sip_config'], { enabled: 0 }, (r) => r['config_flag'] === 'sip'),
    gatekeeper_off: (t) => setAll(t['gatekeeper'], { assessments_enabled: 0 }),
  },
  windows: {
    firewall_off: (t) => {
      setAll(t['windows_security_center'], { firewall: 'Poor' });
      setAll(t['windows_security_products'], { state: 'Off' }, (r) => r['type'] === 'Firewall');
      setAll(t['registry'], { data: '0' }, (r) => r['name'] === 'EnableFirewall');
      setAll(t['services'], { status: 'STOPPED', pid: 0, start_type: 'DISABLED' }, (r) => r['name'] === 'mpssvc');
    },
    disk_unencrypted: (t) =>
      setAll(t['bitlocker_info'], {
        conversion_status: 0,
        protection_status: 0,
        percentage_encrypted: 0,
        encryption_method: 'None',
      }),
    encryption_in_progress: (t) =>
      setAll(t['bitlocker_info'], { conversion_status: 2, protection_status: 0, percentage_encrypted: 43 }),
    remote_login_on: (t) => {
      setAll(t['registry'], { data: '0' }, (r) => r['name'] === 'fDenyTSConnections');
      setAll(
        t['services'],
        { status: 'RUNNING', pid: 1220, start_type: 'AUTO_START', win32_exit_code: 0 },
        (r) => r['name'] === 'TermService',
      );
      t['listening_ports']?.push({
        pid: 1220,
        port: 3389,
        protocol: 6,
        family: 2,
        address: '0.0.0.0',
        fd: -1,
        socket: -1,
        path: '',
        net_namespace: '',
      });
    },
    screenlock_off: (t) => {
      t['registry'] = (t['registry'] ?? []).filter(
        (r) => r['name'] !== 'InactivityTimeoutSecs' && r['name'] !== 'ScreenSaverIsSecure',
      );
    },
  },
  linux: {
    firewall_off: (t) => {
      setAll(
        t['systemd_units'],
        { active_state: 'inactive', sub_state: 'dead', unit_file_state: 'disabled' },
        (r) => r['id'] === 'ufw.service',
      );
      t['iptables'] = (t['iptables'] ?? []).filter((r) => r['target'] === '').map((r) => ({ ...r, policy: 'ACCEPT' }));
    },
    disk_unencrypted: (t) => {
      t['disk_encryption'] = [
        {
          name: '/dev/nvme0n1p1',
          uuid: '',
          encrypted: 0,
          type: '',
          encryption_status: 'not encrypted',
          uid: '',
          user_uuid: '',
          filevault_status: '',
        },
        {
          name: '/dev/nvme0n1p2',
          uuid: '',
          encrypted: 0,
          type: '',
          encryption_status: 'not encrypted',
          uid: '',
          user_uuid: '',
          filevault_status: '',
        },
      ];
      t['block_devices'] = (t['block_devices'] ?? []).filter((r) => r['type'] !== 'crypto_LUKS');
      setAll(t['mounts'], { device: '/dev/nvme0n1p2', device_alias: '/dev/nvme0n1p2' }, (r) => r['path'] === '/');
    },
    remote_login_on: (t) => {
      setAll(
        t['systemd_units'],
        { active_state: 'active', sub_state: 'running', unit_file_state: 'enabled' },
        (r) => r['id'] === 'ssh.service',
      );
      t['processes']?.push(proc(1102, 'sshd', '/usr/sbin/sshd'));
      t['listening_ports']?.push({
        pid: 1102,
        port: 22,
        protocol: 6,
        family: 2,
        address: '0.0.0.0',
        fd: 3,
        socket: 28811,
        path: '',
        net_namespace: '4026531840',
      });
    },
  },
};

/**
 * How hosts drift (per profile-change opportunity): facets that switch on (things break) and
 * off (people fix them, encryption finishes, the OS gets updated).
 */
export const DRIFT = {
  /** Facets that may switch on for a compliant host. */
  breaks: {
    darwin: ['firewall_off', 'screenlock_off', 'remote_login_on'],
    windows: ['firewall_off', 'remote_login_on', 'screenlock_off'],
    linux: ['firewall_off', 'remote_login_on'],
  } as Readonly<Record<SimPlatform, readonly string[]>>,
  /** Facets that resolve by themselves over time (encryption completes, OS update installs). */
  resolves: [
    'encryption_in_progress',
    'os_outdated',
    'firewall_off',
    'screenlock_off',
    'remote_login_on',
  ] as readonly string[],
} as const;

// ───────────────────────────── the catalogue ─────────────────────────────

export interface ProfileCatalogue {
  profiles: readonly Profile[];
  byName: ReadonlyMap<string, Profile>;
  /** Compliant profiles of a platform (one per current OS release), with weights. */
  compliant(platform: SimPlatform): ReadonlyArray<readonly [Profile, number]>;
  /** Failing profiles of a platform, with weights. */
  failing(platform: SimPlatform): ReadonlyArray<readonly [Profile, number]>;
  /** The profile with the same OS and `facets` (sorted), if it is in the catalogue. */
  find(platform: SimPlatform, osKey: string, facets: readonly string[]): Profile | undefined;
  /** The compliant profile a host lands on when it fixes everything (OS updated if outdated). */
  fixed(p: Profile): Profile;
}

const clone = (t: Record<string, TableRow[]>): Record<string, TableRow[]> => {
  const out: Record<string, TableRow[]> = {};
  for (const [k, rows] of Object.entries(t)) out[k] = rows.map((r) => ({ ...r }));
  return out;
};

/** Builds every profile: each current OS release compliant, and on it each facet alone and a few pairs; outdated releases. */
export function buildProfiles(): ProfileCatalogue {
  const profiles: Profile[] = [];
  const weights = new Map<Profile, number>();
  const add = (platform: SimPlatform, os: OsRelease, facets: string[], weight: number): void => {
    const sorted = [...facets].sort();
    const base: Record<string, TableRow[]> = {
      ...identityTables(platform, os),
      ...(platform === 'darwin' ? darwinTables() : platform === 'windows' ? windowsTables() : linuxTables(os)),
    };
    const tables = clone(base);
    for (const f of sorted) FACETS[platform][f]?.(tables);
    const all = os.outdated ? [...sorted, 'os_outdated'].sort() : sorted;
    const p: Profile = {
      id: profiles.length,
      name: `${platform}-${os.key}${all.length ? '+' + all.join('+') : ''}`,
      platform,
      os: os.label,
      facets: all,
      tables,
    };
    profiles.push(p);
    weights.set(p, weight);
  };
  for (const platform of ['darwin', 'windows', 'linux'] as const) {
    const releases = OS_RELEASES[platform];
    const facetNames = Object.keys(FACETS[platform]);
    for (const os of releases) {
      if (os.outdated) {
        add(platform, os, [], os.weight);
        continue;
      }
      add(platform, os, [], os.weight);
      for (const f of facetNames) add(platform, os, [f], os.weight / 10);
    }
    // A couple of hosts in really bad shape, on the newest release.
    const newest = releases[0];
    if (newest) add(platform, newest, facetNames.filter((f) => f !== 'encryption_in_progress').slice(0, 3), 1);
  }
  const byName = new Map(profiles.map((p) => [p.name, p] as const));
  const osKeyOf = (p: Profile): string => p.name.slice(p.platform.length + 1).split('+')[0] ?? '';
  const find = (platform: SimPlatform, osKey: string, facets: readonly string[]): Profile | undefined => {
    const own = facets.filter((f) => f !== 'os_outdated').sort();
    const outdated = OS_RELEASES[platform].find((o) => o.key === osKey)?.outdated ?? false;
    const all = outdated ? [...own, 'os_outdated'].sort() : own;
    return byName.get(`${platform}-${osKey}${all.length ? '+' + all.join('+') : ''}`);
  };
  const compliantOf = (platform: SimPlatform): Array<readonly [Profile, number]> =>
    profiles
      .filter((p) => p.platform === platform && p.facets.length === 0)
      .map((p) => [p, weights.get(p) ?? 1] as const);
  const failingOf = (platform: SimPlatform): Array<readonly [Profile, number]> =>
    profiles
      .filter((p) => p.platform === platform && p.facets.length > 0)
      .map((p) => [p, weights.get(p) ?? 1] as const);
  const fixed = (p: Profile): Profile => {
    const osKey = osKeyOf(p);
    const outdated = p.facets.includes('os_outdated');
    const target = outdated ? (OS_RELEASES[p.platform][0]?.key ?? osKey) : osKey;
    return find(p.platform, target, []) ?? p;
  };
  return {
    profiles,
    byName,
    find,
    fixed,
    compliant: compliantOf,
    failing: failingOf,
  };
}

/** The OS release key of a profile (e.g. `15.2`, `22631.4602`, `ubuntu-22.4`). */
export function osKeyOf(p: Profile): string {
  return p.name.slice(p.platform.length + 1).split('+')[0] ?? '';
}
