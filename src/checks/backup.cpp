// The backup domain (guide 003 §9.2, guide 000 Deployment Checklist and
// Regular Security Tasks): a scheduled job that backs up, encrypts and
// sends the copy off the host. Jobs come from the shared ScheduleModel
// (enabled systemd timers and cron, with the scripts they call); a job is a
// backup job when one of its lines runs a backup program.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/schedule_model.hpp>
#include <bulwark/core/text.hpp>

#include <algorithm>
#include <ctime>

namespace bulwark {

namespace {

// Programs that back up a database or files. The dump tools alone make a
// plain file; restic, borg and duplicity make encrypted repositories.
constexpr std::string_view k_tools[] = {"restic",        "borg",    "borgmatic",
                                        "duplicity",     "pg_dump", "pg_dumpall",
                                        "pg_basebackup", "wal-g",   "pgbackrest"};

struct Use {
  std::string tool;
  const ScheduledJob::Step *step;
};

struct BackupJob {
  const ScheduledJob *job;
  std::vector<Use> uses; // in k_tools order
  bool uses_tool(std::string_view t) const {
    return std::any_of(uses.begin(), uses.end(), [&](const Use &u) { return u.tool == t; });
  }
};

std::vector<BackupJob> backup_jobs(const ScheduleModel &m) {
  std::vector<BackupJob> out;
  for (auto &j : m.jobs) {
    BackupJob b{&j, {}};
    for (auto t : k_tools)
      if (const auto *s = j.runs(t))
        b.uses.push_back({std::string(t), s});
    if (!b.uses.empty())
      out.push_back(std::move(b));
  }
  return out;
}

Evidence step_evidence(const ScheduledJob &j, const ScheduledJob::Step &s, std::string expected) {
  return Evidence{s.loc.path, s.loc.line, text::printable(s.text), std::move(expected), j.name};
}

std::string tools_of(const BackupJob &b) {
  std::string s;
  for (auto &u : b.uses)
    s += (s.empty() ? "" : ", ") + u.tool;
  return s;
}

// Emits the shared preamble of encrypted/offsite: nullptr when no job.
const std::vector<BackupJob> *jobs_or_report(CheckRun &run, std::vector<BackupJob> &store) {
  const ScheduleModel &m = run.ctx().get<ScheduleModel>();
  store = backup_jobs(m);
  if (store.empty()) {
    if (!m.errors.empty())
      run.emit(Status::error, "",
               "no backup job found, but some scheduled jobs could not be read: " +
                   m.errors.front().path + ": " + m.errors.front().found,
               m.errors);
    else
      run.emit(Status::not_applicable, "",
               "no scheduled backup job (backup.configured reports it)");
    return nullptr;
  }
  return &store;
}

// --- backup.configured ----------------------------------------------------

void configured(CheckRun &run) {
  const RootFs &fs = run.ctx().fs();
  const ScheduleModel &m = run.ctx().get<ScheduleModel>();
  int64_t days = run.param_int("days");
  auto jobs = backup_jobs(m);
  if (jobs.empty()) {
    std::vector<Evidence> ev{Evidence{"/etc/systemd/system", 0,
                                      "no enabled timer or cron job runs a backup program",
                                      "a timer or cron job running restic, borg, duplicity, "
                                      "pg_dump, pg_basebackup, wal-g or pgBackRest",
                                      ""}};
    ev.insert(ev.end(), m.errors.begin(), m.errors.end());
    if (!m.errors.empty()) {
      run.emit(Status::error, "",
               "no backup job found, but some scheduled jobs could not be read: " +
                   m.errors.front().path + ": " + m.errors.front().found,
               ev);
      return;
    }
    run.emit(Status::fail, "", "nothing backs up this host on a schedule", ev);
    return;
  }
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  for (auto &b : jobs) {
    const ScheduledJob &j = *b.job;
    std::vector<Evidence> ev{
        Evidence{j.where.path, j.where.line, j.kind + " " + j.schedule, "scheduled", j.name},
        step_evidence(j, *b.uses.front().step, "a backup program")};
    // When it last ran: systemd's stamp of a Persistent= timer.
    std::optional<int64_t> last;
    std::string last_from;
    if (!j.stamp.empty())
      if (auto st = fs.stat(j.stamp); st && st->type == FileInfo::Type::regular) {
        last = st->mtime;
        last_from = j.stamp;
      }
    if (last) {
      int64_t age = (now - *last) / 86400;
      ev.push_back(Evidence{last_from, 0, "last run " + std::to_string(age) + " days ago",
                            "<= " + std::to_string(days) + " days", j.name});
      if (now - *last > days * 86400) {
        run.emit(Status::fail, j.name,
                 j.name + " runs " + tools_of(b) + " but last ran " + std::to_string(age) +
                     " days ago",
                 ev);
        continue;
      }
    }
    run.emit(Status::pass, j.name,
             j.name + " runs " + tools_of(b) + " (" + j.schedule + ")" +
                 (last ? "" : "; when it last ran is not recorded on the host"),
             ev);
  }
}

// --- backup.encrypted -----------------------------------------------------

// Settings that hold a backup key or passphrase literally, and options that
// name a file holding one.
constexpr std::string_view k_secret_vars[] = {"RESTIC_PASSWORD", "BORG_PASSPHRASE",
                                              "PASSPHRASE",      "WALG_LIBSODIUM_KEY",
                                              "WALG_PGP_KEY",    "AWS_SECRET_ACCESS_KEY"};
constexpr std::string_view k_key_file_vars[] = {"RESTIC_PASSWORD_FILE", "BORG_KEY_FILE",
                                                "WALG_LIBSODIUM_KEY_PATH", "WALG_PGP_KEY_PATH"};
constexpr std::string_view k_key_file_opts[] = {"--password-file", "-p"};

void encrypted(CheckRun &run) {
  const RootFs &fs = run.ctx().fs();
  std::vector<BackupJob> store;
  const auto *jobs = jobs_or_report(run, store);
  if (!jobs)
    return;
  for (auto &b : *jobs) {
    const ScheduledJob &j = *b.job;
    std::vector<Evidence> good, bad;
    // What encrypts: a repository format that always does, or a pipe
    // through gpg/age/openssl.
    const ScheduledJob::Step *enc = nullptr;
    std::string how;
    for (auto t : {"restic", "borg", "borgmatic", "duplicity"})
      if (b.uses_tool(t)) {
        for (auto &u : b.uses)
          if (u.tool == t)
            enc = u.step;
        how = std::string(t) + " encrypts its repository";
        break;
      }
    for (auto &s : j.steps) {
      std::string l = text::lower(s.text);
      if (l.find("--no-encryption") != std::string::npos ||
          l.find("--encryption=none") != std::string::npos ||
          l.find("--encryption none") != std::string::npos ||
          l.find("-e none") != std::string::npos)
        bad.push_back(step_evidence(j, s, "encryption on"));
    }
    if (!enc)
      for (auto p : {"gpg", "gpg2", "age", "openssl"})
        if (const auto *s = j.runs(p)) {
          if (std::string_view(p) == "openssl" && s->text.find(" enc") == std::string::npos &&
              s->text.find(" smime") == std::string::npos &&
              s->text.find(" cms") == std::string::npos)
            continue;
          enc = s;
          how = std::string("the output is piped through ") + p;
          break;
        }
    if (!enc && b.uses_tool("wal-g"))
      for (auto v : {"WALG_LIBSODIUM_KEY", "WALG_LIBSODIUM_KEY_PATH", "WALG_PGP_KEY",
                     "WALG_PGP_KEY_PATH", "WALG_GPG_KEY_ID"})
        if (j.env.count(std::string(v))) {
          for (auto &s : j.steps)
            if (s.text.find(v) != std::string::npos) {
              enc = &s;
              break;
            }
          how = std::string("wal-g encrypts with ") + v;
          break;
        }
    if (!enc && b.uses_tool("pgbackrest"))
      for (auto &s : j.steps)
        if (s.text.find("cipher-type") != std::string::npos &&
            s.text.find("none") == std::string::npos) {
          enc = &s;
          how = "pgBackRest's repository cipher";
        }
    if (enc)
      good.push_back(step_evidence(j, *enc, "encryption"));
    // The key must not be readable by others: the files that hold it.
    std::vector<std::string> key_files;
    for (auto &s : j.steps) {
      auto words = shell_words(s.text);
      for (size_t i = 0; i < words.size(); ++i) {
        std::string w = words[i];
        for (auto v : k_secret_vars)
          if (text::starts_with(w, std::string(v) + "=") && w.size() > v.size() + 1 &&
              w[v.size() + 1] != '$')
            key_files.push_back(s.loc.path);
        for (auto v : k_key_file_vars)
          if (text::starts_with(w, std::string(v) + "="))
            key_files.push_back(j.expand(w.substr(v.size() + 1)));
        for (auto o : k_key_file_opts) {
          if (w == o && i + 1 < words.size() && j.runs("restic") == &s)
            key_files.push_back(j.expand(words[i + 1]));
          else if (text::starts_with(w, std::string(o) + "="))
            key_files.push_back(j.expand(w.substr(o.size() + 1)));
        }
      }
    }
    std::sort(key_files.begin(), key_files.end());
    key_files.erase(std::unique(key_files.begin(), key_files.end()), key_files.end());
    for (auto &kf : key_files) {
      if (kf.empty() || kf[0] != '/')
        continue;
      auto st = fs.stat(kf);
      if (!st) {
        bad.push_back(Evidence{kf, 0, "cannot stat: " + st.error().message,
                               "a key file readable by its owner only", j.name});
        continue;
      }
      Evidence e{kf, 0, "mode " + text::octal_mode(st->mode) + " uid " + std::to_string(st->uid),
                 "not readable by others (0600 or 0640)", j.name};
      ((st->mode & 0004) ? bad : good).push_back(e);
    }
    if (!enc) {
      bad.insert(bad.begin(), step_evidence(j, *b.uses.front().step,
                                            "an encrypting repository (restic, borg, duplicity) "
                                            "or | gpg / | age"));
      run.emit(Status::fail, j.name,
               j.name + " writes unencrypted backups (" + tools_of(b) + ", no encryption step)",
               bad);
      continue;
    }
    if (!bad.empty()) {
      bad.insert(bad.end(), good.begin(), good.end());
      run.emit(Status::fail, j.name,
               j.name + ": " +
                   (bad.front().found.find("mode") == 0
                        ? "the backup key " + bad.front().path + " is readable by others"
                        : bad.front().found),
               bad);
      continue;
    }
    run.emit(Status::pass, j.name, j.name + ": " + how, good);
  }
}

// --- backup.offsite -------------------------------------------------------

enum class Place { remote, local, unknown };

Place classify(std::string_view dest) {
  std::string d = text::lower(dest);
  if (d.empty() || d.find('$') != std::string::npos)
    return Place::unknown;
  if (d[0] == '/' || text::starts_with(d, "file:") || text::starts_with(d, "local:"))
    return Place::local;
  for (auto s : {"s3:", "b2:", "gs:", "azure:", "swift:", "sftp:", "rclone:", "ssh://", "scp://",
                 "rsync://", "boto3+s3://", "s3+http", "webdav", "ftp", "pexpect+", "paramiko+"})
    if (text::starts_with(d, s))
      return Place::remote;
  if (text::starts_with(d, "rest:")) {
    bool loop = d.find("//localhost") != std::string::npos ||
                d.find("//127.") != std::string::npos || d.find("//[::1]") != std::string::npos;
    return loop ? Place::local : Place::remote;
  }
  // borg / scp / rsync: [user@]host:path
  size_t colon = d.find(':');
  if (colon != std::string::npos && colon > 0 && d.find('/') > colon)
    return Place::remote;
  if (d.find("://") != std::string::npos)
    return Place::remote;
  return Place::unknown;
}

void offsite(CheckRun &run) {
  std::vector<BackupJob> store;
  const auto *jobs = jobs_or_report(run, store);
  if (!jobs)
    return;
  for (auto &b : *jobs) {
    const ScheduledJob &j = *b.job;
    struct Dest {
      std::string value;
      const ScheduledJob::Step *step;
    };
    std::vector<Dest> dests;
    // Positional targets count only on lines that run a program that sends
    // backups somewhere (a health-check `curl https://...` is not one).
    static constexpr std::string_view k_senders[] = {"restic", "borg",   "duplicity", "rclone",
                                                     "aws",    "gsutil", "s3cmd",     "scp",
                                                     "rsync",  "azcopy", "wal-g"};
    for (auto &s : j.steps) {
      auto words = shell_words(s.text);
      bool sender = false, restic = false;
      for (auto &w : words) {
        std::string_view b = std::string_view(w).substr(w.rfind('/') + 1);
        sender |= std::find(std::begin(k_senders), std::end(k_senders), b) != std::end(k_senders);
        restic |= b == "restic";
      }
      for (size_t i = 0; i < words.size(); ++i) {
        const std::string &w = words[i];
        for (auto v :
             {"RESTIC_REPOSITORY=", "BORG_REPO=", "WALG_S3_PREFIX=", "WALG_GS_PREFIX=",
              "WALG_AZ_PREFIX=", "WALG_SWIFT_PREFIX=", "WALG_SSH_PREFIX=", "WALG_FILE_PREFIX="})
          if (text::starts_with(w, v)) {
            std::string val = w.substr(std::string_view(v).size());
            if (std::string_view(v) == "WALG_FILE_PREFIX=")
              val = "/" + val;
            else if (text::starts_with(v, "WALG_"))
              val = text::lower(std::string_view(v).substr(5, 2)) + ":" + val;
            dests.push_back({val, &s});
          }
        if (restic && (w == "-r" || w == "--repo") && i + 1 < words.size())
          dests.push_back({words[i + 1], &s});
        if (restic && text::starts_with(w, "--repo="))
          dests.push_back({w.substr(7), &s});
        if (!sender)
          continue;
        if (text::starts_with(w, "repo") && w.find("-type=") != std::string::npos)
          dests.push_back({w.substr(w.find('=') + 1) == "posix" ? "/" : "s3:", &s});
        // borg REPO::ARCHIVE, duplicity/rclone/aws/gsutil/scp/rsync targets
        if (w.find("::") != std::string::npos && w[0] != ':')
          dests.push_back({w.substr(0, w.find("::")), &s});
        else if (i > 0 &&
                 (w.find("://") != std::string::npos || text::starts_with(w, "s3:") ||
                  text::starts_with(w, "gs:")) &&
                 !text::starts_with(w, "--"))
          dests.push_back({w, &s});
        else if (i > 0 && (words[0] == "scp" || words[0] == "rsync" || words[0] == "rclone") &&
                 w[0] != '-' && w.find(':') != std::string::npos)
          dests.push_back({words[0] == "rclone" ? "rclone:" + w : w, &s});
      }
    }
    std::vector<Evidence> remote, local, unknown;
    for (auto &d : dests) {
      std::string v = j.expand(d.value);
      Evidence e{d.step->loc.path, d.step->loc.line, text::printable(v),
                 "another host or a bucket (s3:, b2:, gs:, azure:, sftp:, rclone:, ssh://)",
                 j.name};
      switch (classify(v)) {
      case Place::remote: remote.push_back(e); break;
      case Place::local: local.push_back(e); break;
      case Place::unknown: unknown.push_back(e); break;
      }
    }
    if (!remote.empty()) {
      run.emit(Status::pass, j.name, j.name + " sends its backup to " + remote.front().found,
               remote);
      continue;
    }
    if (!local.empty()) {
      local.insert(local.end(), unknown.begin(), unknown.end());
      run.emit(Status::fail, j.name,
               j.name + " keeps its backup on this host (" + local.front().found + ")", local);
      continue;
    }
    if (unknown.empty())
      unknown.push_back(
          step_evidence(j, *b.uses.front().step, "a repository or target on another host"));
    run.emit(Status::warn, j.name,
             j.name + ": cannot tell where the backup goes (" + unknown.front().found + ")",
             unknown);
  }
}

constexpr CheckImpl k_backup_checks[] = {
    {"backup.configured", configured},
    {"backup.encrypted", encrypted},
    {"backup.offsite", offsite},
};

} // namespace

std::span<const CheckImpl> backup_checks() {
  return k_backup_checks;
}

} // namespace bulwark
