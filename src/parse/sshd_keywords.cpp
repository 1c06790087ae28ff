// The keyword table, compiled-in defaults and algorithm lists of OpenSSH 9.2
// as shipped in Debian 12 (openssh-server 1:9.2p1-2+deb12u*), taken from the
// binary itself: `sshd -T -f /dev/null`, `ssh -Q cipher|mac|kex|key-sig|sig`,
// and each keyword tried inside `Match User nobody` with `sshd -t`.

#include <bulwark/core/text.hpp>
#include <bulwark/parse/sshd_config.hpp>

#include <algorithm>
#include <set>

namespace bulwark::ssh {

namespace {

// Sorted by name (find_keyword() bisects).
constexpr Keyword k_keywords[] = {
    {"acceptenv", "acceptenv", ValueKind::words, Store::accumulate, true, nullptr, 1, -1},
    {"addressfamily", "addressfamily", ValueKind::multistate, Store::first, false, "any,inet,inet6",
     1, 1},
    {"afstokenpassing", "afstokenpassing", ValueKind::ignored, Store::first, false, "unsupported",
     0, -1},
    {"allowagentforwarding", "allowagentforwarding", ValueKind::flag, Store::first, true, nullptr,
     1, 1},
    {"allowgroups", "allowgroups", ValueKind::words, Store::accumulate, true, nullptr, 1, -1},
    {"allowstreamlocalforwarding", "allowstreamlocalforwarding", ValueKind::multistate,
     Store::first, true, "yes,all:yes,no,local,remote", 1, 1},
    {"allowtcpforwarding", "allowtcpforwarding", ValueKind::multistate, Store::first, true,
     "yes,all:yes,no,local,remote", 1, 1},
    {"allowusers", "allowusers", ValueKind::words, Store::accumulate, true, nullptr, 1, -1},
    {"authenticationmethods", "authenticationmethods", ValueKind::words, Store::first, true,
     nullptr, 1, -1},
    {"authorizedkeyscommand", "authorizedkeyscommand", ValueKind::rest, Store::first, true, nullptr,
     0, -1},
    {"authorizedkeyscommanduser", "authorizedkeyscommanduser", ValueKind::text, Store::first, true,
     nullptr, 1, 1},
    {"authorizedkeysfile", "authorizedkeysfile", ValueKind::words, Store::first, true, nullptr, 1,
     -1},
    {"authorizedkeysfile2", "authorizedkeysfile2", ValueKind::ignored, Store::first, true,
     "deprecated", 0, -1},
    {"authorizedprincipalscommand", "authorizedprincipalscommand", ValueKind::rest, Store::first,
     true, nullptr, 0, -1},
    {"authorizedprincipalscommanduser", "authorizedprincipalscommanduser", ValueKind::text,
     Store::first, true, nullptr, 1, 1},
    {"authorizedprincipalsfile", "authorizedprincipalsfile", ValueKind::text, Store::first, true,
     nullptr, 1, 1},
    {"banner", "banner", ValueKind::text, Store::first, true, nullptr, 1, 1},
    {"casignaturealgorithms", "casignaturealgorithms", ValueKind::algorithms, Store::first, true,
     "casignaturealgorithms", 1, 1},
    {"challengeresponseauthentication", "kbdinteractiveauthentication", ValueKind::flag,
     Store::first, true, nullptr, 1, 1},
    {"channeltimeout", "channeltimeout", ValueKind::words, Store::first, true, nullptr, 1, -1},
    {"checkmail", "checkmail", ValueKind::ignored, Store::first, false, "deprecated", 0, -1},
    {"chrootdirectory", "chrootdirectory", ValueKind::text, Store::first, true, nullptr, 1, 1},
    {"ciphers", "ciphers", ValueKind::algorithms, Store::first, false, "ciphers", 1, 1},
    {"clientalivecountmax", "clientalivecountmax", ValueKind::integer, Store::first, true, nullptr,
     1, 1},
    {"clientaliveinterval", "clientaliveinterval", ValueKind::time, Store::first, true, nullptr, 1,
     1},
    {"compression", "compression", ValueKind::multistate, Store::first, false, "yes,delayed:yes,no",
     1, 1},
    {"debianbanner", "debianbanner", ValueKind::flag, Store::first, false, nullptr, 1, 1},
    {"denygroups", "denygroups", ValueKind::words, Store::accumulate, true, nullptr, 1, -1},
    {"denyusers", "denyusers", ValueKind::words, Store::accumulate, true, nullptr, 1, -1},
    {"disableforwarding", "disableforwarding", ValueKind::flag, Store::first, true, nullptr, 1, 1},
    {"dsaauthentication", "pubkeyauthentication", ValueKind::flag, Store::first, false, nullptr, 1,
     1},
    {"exposeauthinfo", "exposeauthinfo", ValueKind::flag, Store::first, true, nullptr, 1, 1},
    {"fingerprinthash", "fingerprinthash", ValueKind::text, Store::last, false, nullptr, 1, 1},
    {"forcecommand", "forcecommand", ValueKind::rest, Store::first, true, nullptr, 0, -1},
    {"gatewayports", "gatewayports", ValueKind::multistate, Store::first, true,
     "clientspecified,yes,no", 1, 1},
    {"gssapiauthentication", "gssapiauthentication", ValueKind::flag, Store::first, true, nullptr,
     1, 1},
    {"gssapicleanupcredentials", "gssapicleanupcredentials", ValueKind::flag, Store::first, false,
     nullptr, 1, 1},
    {"gssapicleanupcreds", "gssapicleanupcredentials", ValueKind::flag, Store::first, false,
     nullptr, 1, 1},
    {"gssapikexalgorithms", "gssapikexalgorithms", ValueKind::text, Store::first, false, nullptr, 1,
     1},
    {"gssapikeyexchange", "gssapikeyexchange", ValueKind::flag, Store::first, false, nullptr, 1, 1},
    {"gssapistorecredentialsonrekey", "gssapistorecredentialsonrekey", ValueKind::flag,
     Store::first, false, nullptr, 1, 1},
    {"gssapistrictacceptorcheck", "gssapistrictacceptorcheck", ValueKind::flag, Store::first, false,
     nullptr, 1, 1},
    {"gssapiusesessioncredcache", "gssapiusesessioncredcache", ValueKind::ignored, Store::first,
     false, "unsupported", 0, -1},
    {"gssusesessionccache", "gssusesessionccache", ValueKind::ignored, Store::first, false,
     "unsupported", 0, -1},
    {"hostbasedacceptedalgorithms", "hostbasedacceptedalgorithms", ValueKind::algorithms,
     Store::first, true, "hostbasedacceptedalgorithms", 1, 1},
    {"hostbasedacceptedkeytypes", "hostbasedacceptedalgorithms", ValueKind::algorithms,
     Store::first, true, "hostbasedacceptedalgorithms", 1, 1},
    {"hostbasedauthentication", "hostbasedauthentication", ValueKind::flag, Store::first, true,
     nullptr, 1, 1},
    {"hostbasedusesnamefrompacketonly", "hostbasedusesnamefrompacketonly", ValueKind::flag,
     Store::first, true, nullptr, 1, 1},
    {"hostcertificate", "hostcertificate", ValueKind::words, Store::accumulate, false, nullptr, 1,
     1},
    {"hostdsakey", "hostkey", ValueKind::words, Store::accumulate, false, nullptr, 1, 1},
    {"hostkey", "hostkey", ValueKind::words, Store::accumulate, false, nullptr, 1, 1},
    {"hostkeyagent", "hostkeyagent", ValueKind::text, Store::first, false, nullptr, 1, 1},
    {"hostkeyalgorithms", "hostkeyalgorithms", ValueKind::algorithms, Store::first, false,
     "hostkeyalgorithms", 1, 1},
    {"ignorerhosts", "ignorerhosts", ValueKind::multistate, Store::first, true,
     "yes,no,shosts-only", 1, 1},
    {"ignoreuserknownhosts", "ignoreuserknownhosts", ValueKind::flag, Store::first, false, nullptr,
     1, 1},
    {"include", "include", ValueKind::words, Store::accumulate, true, nullptr, 1, -1},
    {"ipqos", "ipqos", ValueKind::words, Store::last, true, nullptr, 1, 2},
    {"kbdinteractiveauthentication", "kbdinteractiveauthentication", ValueKind::flag, Store::first,
     true, nullptr, 1, 1},
    {"keepalive", "tcpkeepalive", ValueKind::flag, Store::first, false, nullptr, 1, 1},
    {"kerberosauthentication", "kerberosauthentication", ValueKind::flag, Store::first, true,
     nullptr, 1, 1},
    {"kerberosgetafstoken", "kerberosgetafstoken", ValueKind::ignored, Store::first, false,
     "unsupported", 0, -1},
    {"kerberosorlocalpasswd", "kerberosorlocalpasswd", ValueKind::flag, Store::first, false,
     nullptr, 1, 1},
    {"kerberostgtpassing", "kerberostgtpassing", ValueKind::ignored, Store::first, false,
     "unsupported", 0, -1},
    {"kerberosticketcleanup", "kerberosticketcleanup", ValueKind::flag, Store::first, false,
     nullptr, 1, 1},
    {"kexalgorithms", "kexalgorithms", ValueKind::algorithms, Store::first, false, "kexalgorithms",
     1, 1},
    {"keyregenerationinterval", "keyregenerationinterval", ValueKind::ignored, Store::first, false,
     "deprecated", 0, -1},
    {"listenaddress", "listenaddress", ValueKind::words, Store::accumulate, false, nullptr, 1, 3},
    {"logingracetime", "logingracetime", ValueKind::time, Store::first, false, nullptr, 1, 1},
    {"loglevel", "loglevel", ValueKind::text, Store::first, true, nullptr, 1, 1},
    {"logverbose", "logverbose", ValueKind::words, Store::first, true, nullptr, 1, -1},
    {"macs", "macs", ValueKind::algorithms, Store::first, false, "macs", 1, 1},
    {"match", "match", ValueKind::rest, Store::first, false, nullptr, 0, -1},
    {"maxauthtries", "maxauthtries", ValueKind::integer, Store::first, true, nullptr, 1, 1},
    {"maxsessions", "maxsessions", ValueKind::integer, Store::first, true, nullptr, 1, 1},
    {"maxstartups", "maxstartups", ValueKind::text, Store::last, false, nullptr, 1, 1},
    {"modulifile", "modulifile", ValueKind::text, Store::first, false, nullptr, 1, 1},
    {"pamauthenticationviakbdint", "pamauthenticationviakbdint", ValueKind::ignored, Store::first,
     false, "deprecated", 0, -1},
    {"passwordauthentication", "passwordauthentication", ValueKind::flag, Store::first, true,
     nullptr, 1, 1},
    {"permitblacklistedkeys", "permitblacklistedkeys", ValueKind::ignored, Store::first, false,
     "deprecated", 0, -1},
    {"permitemptypasswords", "permitemptypasswords", ValueKind::flag, Store::first, true, nullptr,
     1, 1},
    {"permitlisten", "permitlisten", ValueKind::words, Store::first, true, nullptr, 1, -1},
    {"permitopen", "permitopen", ValueKind::words, Store::first, true, nullptr, 1, -1},
    {"permitrootlogin", "permitrootlogin", ValueKind::multistate, Store::first, true,
     "yes,no,prohibit-password:without-password,without-password,forced-commands-only", 1, 1},
    {"permittty", "permittty", ValueKind::flag, Store::first, true, nullptr, 1, 1},
    {"permittunnel", "permittunnel", ValueKind::text, Store::first, true, nullptr, 1, 1},
    {"permituserenvironment", "permituserenvironment", ValueKind::text, Store::first, false,
     nullptr, 1, 1},
    {"permituserrc", "permituserrc", ValueKind::flag, Store::first, true, nullptr, 1, 1},
    {"persourcemaxstartups", "persourcemaxstartups", ValueKind::text, Store::last, false, nullptr,
     1, 1},
    {"persourcenetblocksize", "persourcenetblocksize", ValueKind::text, Store::last, false, nullptr,
     1, 1},
    {"pidfile", "pidfile", ValueKind::text, Store::first, false, nullptr, 1, 1},
    {"port", "port", ValueKind::text, Store::accumulate, false, nullptr, 1, 1},
    {"printlastlog", "printlastlog", ValueKind::flag, Store::first, false, nullptr, 1, 1},
    {"printmotd", "printmotd", ValueKind::flag, Store::first, false, nullptr, 1, 1},
    {"protocol", "protocol", ValueKind::ignored, Store::first, false, "silent", 0, -1},
    {"pubkeyacceptedalgorithms", "pubkeyacceptedalgorithms", ValueKind::algorithms, Store::first,
     true, "pubkeyacceptedalgorithms", 1, 1},
    {"pubkeyacceptedkeytypes", "pubkeyacceptedalgorithms", ValueKind::algorithms, Store::first,
     true, "pubkeyacceptedalgorithms", 1, 1},
    {"pubkeyauthentication", "pubkeyauthentication", ValueKind::flag, Store::first, true, nullptr,
     1, 1},
    {"pubkeyauthoptions", "pubkeyauthoptions", ValueKind::words, Store::first, true, nullptr, 1,
     -1},
    {"rdomain", "rdomain", ValueKind::ignored, Store::first, true, "fatal", 0, -1},
    {"rekeylimit", "rekeylimit", ValueKind::words, Store::first, true, nullptr, 1, 2},
    {"requiredrsasize", "requiredrsasize", ValueKind::integer, Store::first, true, nullptr, 1, 1},
    {"reversemappingcheck", "reversemappingcheck", ValueKind::ignored, Store::first, false,
     "deprecated", 0, -1},
    {"revokedkeys", "revokedkeys", ValueKind::text, Store::first, true, nullptr, 1, 1},
    {"rhostsauthentication", "rhostsauthentication", ValueKind::ignored, Store::first, false,
     "deprecated", 0, -1},
    {"rhostsrsaauthentication", "rhostsrsaauthentication", ValueKind::ignored, Store::first, true,
     "deprecated", 0, -1},
    {"rsaauthentication", "rsaauthentication", ValueKind::ignored, Store::first, true, "deprecated",
     0, -1},
    {"securitykeyprovider", "securitykeyprovider", ValueKind::text, Store::first, false, nullptr, 1,
     1},
    {"serverkeybits", "serverkeybits", ValueKind::ignored, Store::first, false, "deprecated", 0,
     -1},
    {"setenv", "setenv", ValueKind::words, Store::first, true, nullptr, 1, -1},
    {"skeyauthentication", "kbdinteractiveauthentication", ValueKind::flag, Store::first, true,
     nullptr, 1, 1},
    {"streamlocalbindmask", "streamlocalbindmask", ValueKind::text, Store::last, true, nullptr, 1,
     1},
    {"streamlocalbindunlink", "streamlocalbindunlink", ValueKind::flag, Store::first, true, nullptr,
     1, 1},
    {"strictmodes", "strictmodes", ValueKind::flag, Store::first, false, nullptr, 1, 1},
    {"subsystem", "subsystem", ValueKind::words, Store::accumulate, false, nullptr, 2, -1},
    {"syslogfacility", "syslogfacility", ValueKind::text, Store::first, false, nullptr, 1, 1},
    {"tcpkeepalive", "tcpkeepalive", ValueKind::flag, Store::first, false, nullptr, 1, 1},
    {"trustedusercakeys", "trustedusercakeys", ValueKind::text, Store::first, true, nullptr, 1, 1},
    {"unusedconnectiontimeout", "unusedconnectiontimeout", ValueKind::text, Store::first, true,
     nullptr, 1, 1},
    {"usedns", "usedns", ValueKind::flag, Store::first, false, nullptr, 1, 1},
    {"uselogin", "uselogin", ValueKind::ignored, Store::first, false, "deprecated", 0, -1},
    {"usepam", "usepam", ValueKind::flag, Store::first, false, nullptr, 1, 1},
    {"useprivilegeseparation", "useprivilegeseparation", ValueKind::ignored, Store::first, false,
     "deprecated", 0, -1},
    {"verifyreversemapping", "verifyreversemapping", ValueKind::ignored, Store::first, false,
     "deprecated", 0, -1},
    {"versionaddendum", "versionaddendum", ValueKind::text, Store::first, false, nullptr, 1, 1},
    {"x11displayoffset", "x11displayoffset", ValueKind::integer, Store::first, true, nullptr, 1, 1},
    {"x11forwarding", "x11forwarding", ValueKind::flag, Store::first, true, nullptr, 1, 1},
    {"x11uselocalhost", "x11uselocalhost", ValueKind::flag, Store::first, true, nullptr, 1, 1},
    {"xauthlocation", "xauthlocation", ValueKind::text, Store::first, false, nullptr, 1, 1},
};

constexpr std::string_view k_sshd_keyword_defaults = R"(port 22
addressfamily any
listenaddress [::]:22
listenaddress 0.0.0.0:22
usepam no
logingracetime 120
x11displayoffset 10
maxauthtries 6
maxsessions 10
clientaliveinterval 0
clientalivecountmax 3
requiredrsasize 1024
streamlocalbindmask 0177
unusedconnectiontimeout none
permitrootlogin without-password
ignorerhosts yes
ignoreuserknownhosts no
hostbasedauthentication no
hostbasedusesnamefrompacketonly no
pubkeyauthentication yes
kerberosauthentication no
kerberosorlocalpasswd yes
kerberosticketcleanup yes
gssapiauthentication no
gssapicleanupcredentials yes
gssapikeyexchange no
gssapistrictacceptorcheck yes
gssapistorecredentialsonrekey no
passwordauthentication yes
kbdinteractiveauthentication yes
printmotd yes
printlastlog yes
x11forwarding no
x11uselocalhost yes
permittty yes
permituserrc yes
strictmodes yes
tcpkeepalive yes
permitemptypasswords no
compression yes
gatewayports no
usedns no
allowtcpforwarding yes
allowagentforwarding yes
disableforwarding no
allowstreamlocalforwarding yes
streamlocalbindunlink no
fingerprinthash SHA256
exposeauthinfo no
pidfile /run/sshd.pid
modulifile /etc/ssh/moduli
xauthlocation /usr/bin/xauth
ciphers chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com
macs umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1
banner none
forcecommand none
chrootdirectory none
trustedusercakeys none
revokedkeys none
securitykeyprovider internal
authorizedprincipalsfile none
versionaddendum none
authorizedkeyscommand none
authorizedkeyscommanduser none
authorizedprincipalscommand none
authorizedprincipalscommanduser none
hostkeyagent none
kexalgorithms sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256
casignaturealgorithms ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256
hostbasedacceptedalgorithms ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256
hostkeyalgorithms ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256
pubkeyacceptedalgorithms ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256
loglevel INFO
syslogfacility AUTH
authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2
hostkey /etc/ssh/ssh_host_rsa_key
hostkey /etc/ssh/ssh_host_ecdsa_key
hostkey /etc/ssh/ssh_host_ed25519_key
authenticationmethods any
maxstartups 10:30:100
persourcemaxstartups none
persourcenetblocksize 32:128
permittunnel no
ipqos lowdelay throughput
rekeylimit 0 0
permitopen any
permitlisten any
permituserenvironment no
pubkeyauthoptions none
)";

constexpr std::string_view k_ciphers_all =
    "3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc,aes128-ctr,aes192-ctr,aes256-ctr,"
    "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com";
constexpr std::string_view k_macs_all =
    "hmac-sha1,hmac-sha1-96,hmac-sha2-256,hmac-sha2-512,hmac-md5,hmac-md5-96,umac-64@openssh.com,"
    "umac-128@openssh.com,hmac-sha1-etm@openssh.com,hmac-sha1-96-etm@openssh.com,"
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-md5-etm@openssh.com,"
    "hmac-md5-96-etm@openssh.com,umac-64-etm@openssh.com,umac-128-etm@openssh.com";
constexpr std::string_view k_kex_all =
    "diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group14-sha256,"
    "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-"
    "sha1,"
    "diffie-hellman-group-exchange-sha256,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
    "curve25519-sha256,curve25519-sha256@libssh.org,sntrup761x25519-sha512,"
    "sntrup761x25519-sha512@openssh.com";
constexpr std::string_view k_keysig_all =
    "ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,"
    "sk-ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp256-cert-v01@openssh."
    "com,"
    "ecdsa-sha2-nistp384,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521,"
    "ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,"
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,"
    "ssh-dss,ssh-dss-cert-v01@openssh.com,ssh-rsa,ssh-rsa-cert-v01@openssh.com,rsa-sha2-256,"
    "rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com";
constexpr std::string_view k_sig_all =
    "ssh-ed25519,sk-ssh-ed25519@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
    "ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,"
    "webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-dss,ssh-rsa,rsa-sha2-256,rsa-sha2-512";

struct Family {
  std::string_view name;
  std::string_view all;
  bool wildcards; // plain lists may hold patterns (key algorithm families)
};

constexpr Family k_families[] = {
    {"ciphers", k_ciphers_all, false},
    {"macs", k_macs_all, false},
    {"kexalgorithms", k_kex_all, false},
    {"hostkeyalgorithms", k_keysig_all, true},
    {"pubkeyacceptedalgorithms", k_keysig_all, true},
    {"hostbasedacceptedalgorithms", k_keysig_all, true},
    {"casignaturealgorithms", k_sig_all, true},
};

const Family *find_family(std::string_view name) {
  for (auto &f : k_families)
    if (f.name == name)
      return &f;
  return nullptr;
}

bool sshd_keywords_contains(const std::vector<std::string> &v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// kex_names_cat(a, b): a, then the names of b not already in a.
std::vector<std::string> names_cat(const std::vector<std::string> &a,
                                   const std::vector<std::string> &b) {
  std::vector<std::string> out = a;
  for (auto &n : b)
    if (!sshd_keywords_contains(out, n))
      out.push_back(n);
  return out;
}

} // namespace

const Keyword *find_keyword(std::string_view name) {
  auto it = std::lower_bound(std::begin(k_keywords), std::end(k_keywords), name,
                             [](const Keyword &k, std::string_view n) { return k.name < n; });
  if (it == std::end(k_keywords) || it->name != name)
    return nullptr;
  return it;
}

const std::map<std::string, std::vector<std::string>> &defaults() {
  static const std::map<std::string, std::vector<std::string>> d = [] {
    std::map<std::string, std::vector<std::string>> out;
    for (auto &line : text::split(k_sshd_keyword_defaults, '\n')) {
      auto sp = line.find(' ');
      std::string key = line.substr(0, sp);
      for (auto &a : text::split(line.substr(sp + 1), ' '))
        out[key].push_back(a);
    }
    return out;
  }();
  return d;
}

bool algorithms_valid(std::string_view family, std::string_view spec, std::string *bad) {
  const Family *f = find_family(family);
  if (f == nullptr)
    return true;
  if (spec.empty())
    return false;
  if (spec[0] == '-')
    return true; // removals are filtered, never validated
  bool modified = spec[0] == '+' || spec[0] == '^';
  std::string_view list = modified ? spec.substr(1) : spec;
  auto all = text::split(f->all, ',');
  // Empty elements ("aes128-ctr,", ",,") are skipped, as sshd's strsep loops do.
  for (auto &name : text::split(list, ',')) {
    if (sshd_keywords_contains(all, name))
      continue;
    bool ok = false;
    if (f->wildcards && name.find_first_of("*?!") != std::string::npos)
      for (auto &a : all)
        if (match_pattern_list(a, name, false) == 1)
          ok = true;
    if (!ok) {
      if (bad)
        *bad = name;
      return false;
    }
  }
  return true;
}

std::vector<std::string> resolve_algorithms(std::string_view family, std::string_view spec) {
  const Family *f = find_family(family);
  const auto &d = defaults();
  auto dt = d.find(std::string(family));
  std::vector<std::string> def = dt == d.end() || dt->second.empty()
                                     ? std::vector<std::string>{}
                                     : text::split(dt->second[0], ',');
  if (f == nullptr || spec.empty())
    return def;
  std::vector<std::string> list;
  if (spec[0] == '+') {
    list = names_cat(def, text::split(spec.substr(1), ','));
  } else if (spec[0] == '-') {
    std::vector<std::string> out;
    for (auto &n : def)
      if (match_pattern_list(n, spec.substr(1), false) != 1)
        out.push_back(n);
    return out.empty() ? def : out; // removing everything leaves the defaults
  } else if (spec[0] == '^') {
    list = names_cat(text::split(spec.substr(1), ','), def);
  } else {
    list = text::split(spec, ',');
  }
  // Each entry (possibly a pattern) expands to the supported names it
  // matches, in the supported list's order, without duplicates.
  auto all = text::split(f->all, ',');
  std::vector<std::string> out;
  for (auto &pat : list)
    for (auto &a : all)
      if (match_pattern_list(a, pat, false) == 1 && !sshd_keywords_contains(out, a))
        out.push_back(a);
  return out;
}

} // namespace bulwark::ssh
