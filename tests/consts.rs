//! Every hand-typed constant in `baremsg::sys` against an independent source, on each
//! target the suite runs on: the `libc` crate; for the few it lacks, `linux-raw-sys`
//! (generated from the kernel's uapi headers) or glibc's installed header. `SCM_PIDFD`
//! is in neither; `tests/raw.rs` checks it against the running kernel (the type of the
//! message a `SO_PASSPIDFD` socket receives).

use baremsg::sys;

macro_rules! same_as_libc {
    ($($name:ident),* $(,)?) => {
        $(assert_eq!(sys::$name as i64, libc::$name as i64, stringify!($name));)*
    };
}

#[test]
fn msg_flags_match_libc() {
    same_as_libc!(
        MSG_CMSG_CLOEXEC,
        MSG_CONFIRM,
        MSG_CTRUNC,
        MSG_DONTROUTE,
        MSG_DONTWAIT,
        MSG_EOR,
        MSG_ERRQUEUE,
        MSG_FIN,
        MSG_MORE,
        MSG_NOSIGNAL,
        MSG_OOB,
        MSG_PEEK,
        MSG_RST,
        MSG_SYN,
        MSG_TRUNC,
        MSG_TRYHARD,
        MSG_WAITALL,
        MSG_WAITFORONE,
        MSG_ZEROCOPY,
    );
}

#[test]
fn scm_types_match_libc() {
    same_as_libc!(
        SCM_RIGHTS,
        SCM_CREDENTIALS,
        SCM_TIMESTAMP,
        SCM_TIMESTAMPNS,
        SCM_TIMESTAMPING
    );
    assert_eq!(sys::SCM_MAX_FD, 253);
}

#[test]
fn map_flags_match_libc() {
    same_as_libc!(
        MAP_ANON,
        MAP_ANONYMOUS,
        MAP_DENYWRITE,
        MAP_EXECUTABLE,
        MAP_FILE,
        MAP_FIXED,
        MAP_FIXED_NOREPLACE,
        MAP_GROWSDOWN,
        MAP_LOCKED,
        MAP_NONBLOCK,
        MAP_NORESERVE,
        MAP_POPULATE,
        MAP_PRIVATE,
        MAP_SHARED,
        MAP_SHARED_VALIDATE,
        MAP_STACK,
        MAP_TYPE,
        MAP_HUGETLB,
    );
    #[cfg(target_arch = "x86_64")]
    same_as_libc!(MAP_32BIT);
    assert_eq!(sys::MAP_FAILED, libc::MAP_FAILED as usize);
}

#[test]
fn prot_flags_match_libc() {
    same_as_libc!(
        PROT_EXEC,
        PROT_GROWSDOWN,
        PROT_GROWSUP,
        PROT_NONE,
        PROT_READ,
        PROT_WRITE
    );
}

#[test]
fn socket_constants_match_libc() {
    same_as_libc!(
        AF_UNSPEC,
        AF_UNIX,
        AF_LOCAL,
        SOCK_STREAM,
        SOCK_DGRAM,
        SOCK_RAW,
        SOCK_SEQPACKET,
        SOCK_CLOEXEC,
        SOCK_NONBLOCK,
        SOL_SOCKET,
        SO_TYPE,
        SO_ERROR,
        SO_SNDBUF,
        SO_RCVBUF,
        SO_PASSCRED,
        SO_PEERCRED,
        SO_ACCEPTCONN,
        SO_PASSSEC,
        SO_PROTOCOL,
        SO_DOMAIN,
        SHUT_RD,
        SHUT_WR,
        SHUT_RDWR,
    );
    // libc's SO_RCVTIMEO/SO_SNDTIMEO are the `_OLD` ones on every target tested here;
    // baremsg's take the matching `long` timeval.
    same_as_libc!(SO_RCVTIMEO, SO_SNDTIMEO);
}

#[test]
fn fd_constants_match_libc() {
    same_as_libc!(
        O_RDONLY,
        O_WRONLY,
        O_RDWR,
        O_CREAT,
        O_EXCL,
        O_NOCTTY,
        O_TRUNC,
        O_APPEND,
        O_NONBLOCK,
        O_DIRECTORY,
        O_NOFOLLOW,
        O_CLOEXEC,
        F_DUPFD,
        F_GETFD,
        F_SETFD,
        F_GETFL,
        F_SETFL,
        F_DUPFD_CLOEXEC,
        FD_CLOEXEC,
        AT_FDCWD,
        AT_REMOVEDIR,
        MFD_CLOEXEC,
        MFD_ALLOW_SEALING,
    );
}

#[test]
fn process_constants_match_libc() {
    same_as_libc!(
        SIGKILL,
        SIGPIPE,
        SIGTERM,
        SIGCHLD,
        SIGSTOP,
        SIG_BLOCK,
        SIG_UNBLOCK,
        SIG_SETMASK,
        SIG_DFL,
        SIG_IGN,
        CLONE_PIDFD,
        AT_EMPTY_PATH,
        STATX_INO,
        WNOHANG,
        WEXITED,
        P_PID,
        PR_SET_PDEATHSIG,
        PR_SET_NO_NEW_PRIVS,
        RLIMIT_CPU,
        RLIMIT_FSIZE,
        RLIMIT_DATA,
        RLIMIT_STACK,
        RLIMIT_CORE,
        RLIMIT_RSS,
        RLIMIT_NPROC,
        RLIMIT_NOFILE,
        RLIMIT_MEMLOCK,
        RLIMIT_AS,
        RLIMIT_LOCKS,
        RLIMIT_SIGPENDING,
        RLIMIT_MSGQUEUE,
        RLIMIT_NICE,
        RLIMIT_RTPRIO,
        RLIMIT_RTTIME,
        O_PATH,
    );
    assert_eq!(sys::RLIM_INFINITY, libc::RLIM64_INFINITY);
}

#[test]
fn constants_libc_lacks_match_kernel_headers() {
    use linux_raw_sys::net;
    assert_eq!(sys::SCM_SECURITY as u32, net::SCM_SECURITY);
    assert_eq!(sys::SO_PASSPIDFD as u32, net::SO_PASSPIDFD);
    assert_eq!(sys::SO_PEERPIDFD as u32, net::SO_PEERPIDFD);
    same_as_libc!(SO_PASSPIDFD, SO_PEERPIDFD);
    assert_eq!(sys::SO_PASSRIGHTS as u32, net::SO_PASSRIGHTS);
    assert_eq!(sys::NSIG as u32, linux_raw_sys::general::_NSIG);
}

#[test]
fn msg_proxy_matches_glibc_header() {
    // Neither libc nor the uapi headers carry MSG_PROXY; glibc's bits/socket.h does.
    let header = [
        "/usr/include/x86_64-linux-gnu/bits/socket.h",
        "/usr/include/i386-linux-gnu/bits/socket.h",
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok())
    .expect("glibc's bits/socket.h (package libc6-dev) is installed");
    let line = header
        .lines()
        .find(|l| l.trim_start().starts_with("MSG_PROXY"))
        .expect("MSG_PROXY in bits/socket.h");
    let value = line
        .split('=')
        .nth(1)
        .unwrap()
        .trim()
        .trim_end_matches(|c: char| c != 'x' && !c.is_ascii_hexdigit());
    let value = value.split(',').next().unwrap().trim();
    assert_eq!(
        i32::from_str_radix(value.trim_start_matches("0x"), 16).unwrap(),
        sys::MSG_PROXY
    );
}

#[test]
fn address_family_and_vsock_constants_match_libc() {
    same_as_libc!(
        AF_INET,
        AF_INET6,
        AF_NETLINK,
        AF_PACKET,
        AF_VSOCK,
        IPPROTO_TCP,
        IPPROTO_UDP,
        IPPROTO_SCTP,
        VMADDR_CID_ANY,
        VMADDR_CID_HYPERVISOR,
        VMADDR_CID_LOCAL,
        VMADDR_CID_HOST,
        VMADDR_PORT_ANY,
        MAX_HANDLE_SZ,
    );
    // FILEID_KERNFS is in neither libc nor the uapi headers (include/linux/exportfs.h).
    assert_eq!(sys::FILEID_KERNFS, 0xfe);
}
