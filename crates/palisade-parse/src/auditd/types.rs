//! The catalogue of audit record types: name, number, and the ECS categorisation of each.

/// One audit record type this module knows by name.
#[derive(Debug)]
pub struct RecordType {
    /// The type as audit.log writes it (`USER_LOGIN`).
    pub name: &'static str,
    /// The number the kernel writes in `audit: type=NNNN` (`libaudit.h`).
    pub number: u32,
    /// The `event.action` value: the name in snake case.
    pub action: &'static str,
    /// `event.category` values.
    pub category: &'static [&'static str],
    /// `event.type` values.
    pub types: &'static [&'static str],
    /// What the record says, for analysts.
    pub description: &'static str,
}

macro_rules! record_types {
    ($( $name:literal $number:literal $action:literal [$($category:literal),*] [$($kind:literal),*] $description:literal; )*) => {
        /// Every record type with a documented categorisation; other types still parse.
        pub const RECORD_TYPES: &[RecordType] = &[
            $( RecordType {
                name: $name,
                number: $number,
                action: $action,
                category: &[$($category),*],
                types: &[$($kind),*],
                description: $description,
            }, )*
        ];
    };
}

record_types! {
    "LOGIN" 1006 "login" ["authentication", "session"] ["start"] "The kernel tied a login session id (`ses`) and login uid (`auid`) to a process.";
    "USER_AUTH" 1100 "user_auth" ["authentication"] ["start"] "A PAM authentication (password, key...); `event.outcome` from `res=`.";
    "USER_ACCT" 1101 "user_acct" ["authentication"] ["info"] "A PAM account check (expired, locked, access rules).";
    "USER_MGMT" 1102 "user_mgmt" ["iam"] ["user", "change"] "A user-space account change (usermod, passwd fields...).";
    "CRED_ACQ" 1103 "cred_acq" ["authentication"] ["info"] "PAM credentials acquired (setcred).";
    "CRED_DISP" 1104 "cred_disp" ["authentication"] ["info"] "PAM credentials disposed of.";
    "USER_START" 1105 "user_start" ["session"] ["start"] "A PAM session opened.";
    "USER_END" 1106 "user_end" ["session"] ["end"] "A PAM session closed.";
    "USER_AVC" 1107 "user_avc" ["intrusion_detection"] ["info"] "A user-space object manager (systemd, dbus) made an SELinux access decision.";
    "USER_CHAUTHTOK" 1108 "user_chauthtok" ["iam"] ["user", "change"] "A password (authentication token) change.";
    "USER_ERR" 1109 "user_err" ["authentication"] ["info"] "A user-space error during authentication (often a bad user name from a client).";
    "CRED_REFR" 1110 "cred_refr" ["authentication"] ["info"] "PAM credentials refreshed.";
    "USYS_CONFIG" 1111 "usys_config" ["configuration"] ["change"] "A user-space system configuration change.";
    "USER_LOGIN" 1112 "user_login" ["authentication", "session"] ["start"] "A user login (sshd, login, gdm); `event.outcome` from `res=`.";
    "USER_LOGOUT" 1113 "user_logout" ["session"] ["end"] "A user logout.";
    "ADD_USER" 1114 "add_user" ["iam"] ["user", "creation"] "An account was created (useradd).";
    "DEL_USER" 1115 "del_user" ["iam"] ["user", "deletion"] "An account was deleted (userdel).";
    "ADD_GROUP" 1116 "add_group" ["iam"] ["group", "creation"] "A group was created (groupadd).";
    "DEL_GROUP" 1117 "del_group" ["iam"] ["group", "deletion"] "A group was deleted (groupdel).";
    "CHGRP_ID" 1119 "chgrp_id" ["iam"] ["group", "change"] "A process changed its group id.";
    "USER_SELINUX_ERR" 1122 "user_selinux_err" ["intrusion_detection"] ["info"] "A user-space SELinux error.";
    "USER_CMD" 1123 "user_cmd" ["process"] ["start"] "A command run through sudo (`process.command_line` from `cmd=`).";
    "USER_TTY" 1124 "user_tty" ["process"] ["info"] "Keystrokes a user-space program reported (pam_tty_audit).";
    "CHUSER_ID" 1125 "chuser_id" ["iam"] ["user", "change"] "A process changed its user id.";
    "GRP_AUTH" 1126 "grp_auth" ["authentication"] ["info"] "A group password was checked (newgrp).";
    "SYSTEM_BOOT" 1127 "system_boot" ["host"] ["start"] "The system booted.";
    "SYSTEM_SHUTDOWN" 1128 "system_shutdown" ["host"] ["end"] "The system is shutting down.";
    "SYSTEM_RUNLEVEL" 1129 "system_runlevel" ["host"] ["change"] "The run level changed.";
    "SERVICE_START" 1130 "service_start" ["process"] ["start"] "systemd started a service (`auditd.log.unit`).";
    "SERVICE_STOP" 1131 "service_stop" ["process"] ["end"] "systemd stopped a service.";
    "GRP_MGMT" 1132 "grp_mgmt" ["iam"] ["group", "change"] "A user-space group change.";
    "GRP_CHAUTHTOK" 1133 "grp_chauthtok" ["iam"] ["group", "change"] "A group password change.";
    "USER_DEVICE" 1137 "user_device" ["host"] ["info"] "A device was added or removed (udev).";
    "SOFTWARE_UPDATE" 1138 "software_update" ["package"] ["change"] "A package manager changed software.";
    "DAEMON_START" 1200 "daemon_start" ["process"] ["start"] "auditd started (`auditd.log.format` says whether the log is raw or enriched).";
    "DAEMON_END" 1201 "daemon_end" ["process"] ["end"] "auditd stopped.";
    "DAEMON_ABORT" 1202 "daemon_abort" ["process"] ["end"] "auditd stopped on an error.";
    "DAEMON_CONFIG" 1203 "daemon_config" ["configuration"] ["change"] "auditd re-read its configuration.";
    "DAEMON_ROTATE" 1205 "daemon_rotate" ["process"] ["info"] "auditd rotated its log.";
    "DAEMON_RESUME" 1206 "daemon_resume" ["process"] ["info"] "auditd resumed logging.";
    "SYSCALL" 1300 "syscall" ["process"] ["info"] "A system call matched an audit rule: the first record of a kernel event (`auditd.log.syscall`, `auditd.log.key`).";
    "PATH" 1302 "path" ["file"] ["info"] "A path the system call used (`file.path`), one record per path.";
    "IPC" 1303 "ipc" ["process"] ["info"] "An IPC object the system call used.";
    "SOCKETCALL" 1304 "socketcall" ["network"] ["info"] "The arguments of a socketcall.";
    "CONFIG_CHANGE" 1305 "config_change" ["configuration"] ["change"] "The audit configuration changed (rules added or removed, auditing enabled or disabled).";
    "SOCKADDR" 1306 "sockaddr" ["network"] ["info"] "A socket address the system call used (hex `saddr`).";
    "CWD" 1307 "cwd" ["process"] ["info"] "The working directory of the process (`process.working_directory`).";
    "EXECVE" 1309 "execve" ["process"] ["start"] "The arguments of an executed program (`process.args`, `process.command_line`).";
    "KERNEL_OTHER" 1316 "kernel_other" ["process"] ["info"] "A kernel record of another kind.";
    "FD_PAIR" 1317 "fd_pair" ["process"] ["info"] "The two file descriptors of a pipe or socketpair.";
    "OBJ_PID" 1318 "obj_pid" ["process"] ["info"] "The target of a signal (kill).";
    "TTY" 1319 "tty" ["process"] ["info"] "Keystrokes on a terminal (pam_tty_audit; `auditd.log.data`).";
    "EOE" 1320 "eoe" [] [] "The end of a multi-record event.";
    "BPRM_FCAPS" 1321 "bprm_fcaps" ["process"] ["info"] "File capabilities gained on exec.";
    "CAPSET" 1322 "capset" ["process"] ["change"] "A process changed its capabilities.";
    "MMAP" 1323 "mmap" ["process"] ["info"] "The arguments of an mmap.";
    "NETFILTER_PKT" 1324 "netfilter_pkt" ["network"] ["connection"] "A packet the netfilter AUDIT target logged.";
    "NETFILTER_CFG" 1325 "netfilter_cfg" ["configuration"] ["change"] "A firewall table changed (iptables, nftables).";
    "SECCOMP" 1326 "seccomp" ["process"] ["info"] "A seccomp filter acted on a system call (`auditd.log.code`).";
    "PROCTITLE" 1327 "proctitle" ["process"] ["info"] "The command line of the process (`process.title`).";
    "FEATURE_CHANGE" 1328 "feature_change" ["configuration"] ["change"] "An audit feature changed.";
    "REPLACE" 1329 "replace" ["configuration"] ["change"] "The audit daemon was replaced.";
    "KERN_MODULE" 1330 "kern_module" ["driver"] ["info"] "A kernel module was loaded or unloaded (`auditd.log.name`).";
    "FANOTIFY" 1331 "fanotify" ["file"] ["access"] "A fanotify access decision.";
    "TIME_INJOFFSET" 1332 "time_injoffset" ["host"] ["change"] "The clock was stepped.";
    "TIME_ADJNTPVAL" 1333 "time_adjntpval" ["host"] ["change"] "An NTP value was adjusted.";
    "BPF" 1334 "bpf" ["process"] ["info"] "A BPF program was loaded or unloaded (`auditd.log.prog_id`, `auditd.log.op`).";
    "EVENT_LISTENER" 1335 "event_listener" ["process"] ["info"] "A process joined or left the audit multicast group.";
    "URINGOP" 1336 "uringop" ["process"] ["info"] "An io_uring operation.";
    "OPENAT2" 1337 "openat2" ["file"] ["info"] "The open_how argument of openat2.";
    "AVC" 1400 "avc" ["intrusion_detection"] ["info"] "An SELinux or AppArmor access decision (`auditd.log.avc.result`, `auditd.log.apparmor`).";
    "SELINUX_ERR" 1401 "selinux_err" ["intrusion_detection"] ["info"] "An SELinux error (an invalid context, a denied transition).";
    "AVC_PATH" 1402 "avc_path" ["file"] ["info"] "The path of an AVC decision.";
    "MAC_POLICY_LOAD" 1403 "mac_policy_load" ["configuration"] ["change"] "An SELinux policy was loaded.";
    "MAC_STATUS" 1404 "mac_status" ["configuration"] ["change"] "SELinux enforcing mode changed.";
    "MAC_CONFIG_CHANGE" 1405 "mac_config_change" ["configuration"] ["change"] "An SELinux boolean changed.";
    "APPARMOR_AUDIT" 1501 "apparmor_audit" ["intrusion_detection"] ["info"] "AppArmor audited an access.";
    "APPARMOR_ALLOWED" 1502 "apparmor_allowed" ["intrusion_detection"] ["allowed"] "AppArmor allowed an access in complain mode.";
    "APPARMOR_DENIED" 1503 "apparmor_denied" ["intrusion_detection"] ["denied"] "AppArmor denied an access.";
    "APPARMOR_STATUS" 1505 "apparmor_status" ["configuration"] ["change"] "An AppArmor profile was loaded or replaced.";
    "ANOM_PROMISCUOUS" 1700 "anom_promiscuous" ["host"] ["change"] "A network interface entered or left promiscuous mode (a sniffer).";
    "ANOM_ABEND" 1701 "anom_abend" ["process"] ["end"] "A process ended abnormally (a crash, `auditd.log.sig`): exploitation attempts show up here.";
    "ANOM_LINK" 1702 "anom_link" ["intrusion_detection"] ["info"] "A suspicious hard or symbolic link was refused (protected_symlinks).";
    "ANOM_CREAT" 1703 "anom_creat" ["intrusion_detection"] ["info"] "A suspicious file creation was refused (protected_regular).";
    "INTEGRITY_DATA" 1800 "integrity_data" ["file"] ["info"] "An IMA data integrity event.";
    "INTEGRITY_RULE" 1805 "integrity_rule" ["file"] ["info"] "An IMA policy rule matched.";
    "ANOM_LOGIN_FAILURES" 2100 "anom_login_failures" ["authentication"] ["info"] "Too many failed logins (pam_tally, pam_faillock).";
    "ANOM_LOGIN_TIME" 2101 "anom_login_time" ["authentication"] ["info"] "A login at a forbidden time.";
    "ANOM_LOGIN_SESSIONS" 2102 "anom_login_sessions" ["authentication"] ["info"] "Too many concurrent sessions.";
    "ANOM_LOGIN_ACCT" 2103 "anom_login_acct" ["authentication"] ["info"] "A login to a forbidden account.";
    "ANOM_LOGIN_LOCATION" 2104 "anom_login_location" ["authentication"] ["info"] "A login from a forbidden location.";
    "USER_ROLE_CHANGE" 2300 "user_role_change" ["iam"] ["user", "change"] "A user's SELinux role changed.";
    "ROLE_ASSIGN" 2301 "role_assign" ["iam"] ["user", "change"] "An SELinux role was assigned (semanage login).";
    "ROLE_REMOVE" 2302 "role_remove" ["iam"] ["user", "change"] "An SELinux role was removed.";
    "CRYPTO_KEY_USER" 2404 "crypto_key_user" ["authentication"] ["info"] "sshd created or destroyed a session key or host key use.";
    "CRYPTO_SESSION" 2405 "crypto_session" ["network"] ["info"] "sshd negotiated a session's ciphers.";
}

/// Finds a record type by name.
#[must_use]
pub(crate) fn by_name(name: &str) -> Option<&'static RecordType> {
    RECORD_TYPES.iter().find(|record_type| record_type.name == name)
}

/// Finds a record type by the number the kernel writes.
#[must_use]
pub(crate) fn by_number(number: u32) -> Option<&'static RecordType> {
    RECORD_TYPES.iter().find(|record_type| record_type.number == number)
}
