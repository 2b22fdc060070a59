// Tests of config.yaml parsing (defaults, every key, errors with file, line and key) and of the
// io.runvm.* annotation overrides.
#define BOOST_TEST_MODULE runtime_config
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <boost/test/unit_test.hpp>

#include "base/io.hpp"
#include "shim/config/annotations.hpp"
#include "shim/config/config_values.hpp"
#include "shim/config/runtime_config.hpp"

using namespace runvm::config;

namespace {

RuntimeConfig parse_ok(const std::string& yaml) {
    auto config = parse_runtime_config(yaml, "cfg.yaml");
    BOOST_TEST_REQUIRE(config.ok(), (config.ok() ? "" : config.error().str()));
    return *config;
}

std::string parse_error(const std::string& yaml) {
    auto config = parse_runtime_config(yaml, "cfg.yaml");
    BOOST_TEST_REQUIRE(!config.ok());
    BOOST_TEST(config.error().code() == EINVAL);
    return config.error().message();
}

} // namespace

BOOST_AUTO_TEST_CASE(empty_file_means_defaults) {
    const RuntimeConfig defaults;
    BOOST_TEST((parse_ok("") == defaults));
    BOOST_TEST((parse_ok("# nothing here\n\n") == defaults));
    BOOST_TEST((defaults.hypervisor == Hypervisor::automatic));
    BOOST_TEST(defaults.vcpus == 1u);
    BOOST_TEST(defaults.memory_mib == 256u);
    BOOST_TEST(defaults.log_level == "info");
    BOOST_TEST((defaults.log_format == runvm::LogFormat::text));
    BOOST_TEST(defaults.state_root == "/run/runvm");
    BOOST_TEST(defaults.paths.qemu == "qemu-system-x86_64");
    BOOST_TEST(defaults.kernel.empty());
    BOOST_TEST((defaults.rootfs == RootfsMode::automatic));
}

BOOST_AUTO_TEST_CASE(reads_every_key) {
    const RuntimeConfig c = parse_ok(R"(# runvm configuration
hypervisor: qemu
kernel: /usr/share/runvm/vmlinuz
initrd: /usr/share/runvm/initrd.img
vcpus: 4
memory_mib: "2048"
rootfs: virtiofs
log_level: debug
log_format: json
log_file: /var/log/runvm.log
state_root: /run/runvm-test
paths:
  broker: /usr/libexec/runvm/runvm-broker
  vmm: runvm-vmm
  qemu: /usr/bin/qemu-system-x86_64
)");
    BOOST_TEST((c.hypervisor == Hypervisor::qemu));
    BOOST_TEST(c.kernel == "/usr/share/runvm/vmlinuz");
    BOOST_TEST(c.initrd == "/usr/share/runvm/initrd.img");
    BOOST_TEST(c.vcpus == 4u);
    BOOST_TEST(c.memory_mib == 2048u);
    BOOST_TEST((c.rootfs == RootfsMode::virtiofs));
    BOOST_TEST(c.log_level == "debug");
    BOOST_TEST((c.log_format == runvm::LogFormat::json));
    BOOST_TEST(c.log_file == "/var/log/runvm.log");
    BOOST_TEST(c.state_root == "/run/runvm-test");
    BOOST_TEST(c.paths.broker == "/usr/libexec/runvm/runvm-broker");
    BOOST_TEST(c.paths.vmm == "runvm-vmm");
    BOOST_TEST(c.paths.qemu == "/usr/bin/qemu-system-x86_64");
    BOOST_TEST((parse_ok("hypervisor: kvm\n").hypervisor == Hypervisor::kvm));
    BOOST_TEST((parse_ok("rootfs: auto\n") == RuntimeConfig{}));
    BOOST_TEST((parse_ok("rootfs: block\n").rootfs == RootfsMode::block));
    BOOST_TEST((parse_ok("hypervisor: auto\nkernel: \"\"\n") == RuntimeConfig{}));
    BOOST_TEST(parse_ok("vcpus: 255\nmemory_mib: 1048576\n").memory_mib == 1048576u);
    BOOST_TEST((RuntimeConfig{}.template_mode == TemplateMode::automatic));
    const RuntimeConfig pooled = parse_ok("template: off\npool_size: 3\npool_idle_seconds: 60\n");
    BOOST_TEST((pooled.template_mode == TemplateMode::off));
    BOOST_TEST(pooled.pool_size == 3u);
    BOOST_TEST(pooled.pool_idle_seconds == 60u);
    BOOST_TEST(RuntimeConfig{}.template_dir == "/var/lib/runvm/templates");
    BOOST_TEST(parse_ok("template_dir: /srv/t\n").template_dir == "/srv/t");
}

BOOST_AUTO_TEST_CASE(errors_name_line_and_key) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"vcpus: 2\n\nvcpu: 3\n", "cfg.yaml:3: vcpu: unknown key"},
        {"# c\nvcpus: 0\n", R"(cfg.yaml:2: vcpus: must be an integer from 1 to 255, got "0")"},
        {"vcpus: 256\n", R"(cfg.yaml:1: vcpus: must be an integer from 1 to 255, got "256")"},
        {"vcpus: 2.5\n", R"(cfg.yaml:1: vcpus: must be an integer from 1 to 255, got "2.5")"},
        {"vcpus: -1\n", R"(cfg.yaml:1: vcpus: must be an integer from 1 to 255, got "-1")"},
        {"memory_mib: 63\n",
         R"(cfg.yaml:1: memory_mib: must be an integer from 64 to 1048576, got "63")"},
        {"hypervisor: xen\n", R"(cfg.yaml:1: hypervisor: must be auto, kvm or qemu, got "xen")"},
        {"rootfs: 9p\n", R"(cfg.yaml:1: rootfs: must be auto, block or virtiofs, got "9p")"},
        {"template: on\n", R"(cfg.yaml:1: template: must be auto or off, got "on")"},
        {"pool_size: 0\n", R"(cfg.yaml:1: pool_size: must be an integer from 1 to 16, got "0")"},
        {"template_dir: rel/t\n",
         R"(cfg.yaml:1: template_dir: must be an absolute path, got "rel/t")"},
        {"pool_idle_seconds: 5\n",
         R"(cfg.yaml:1: pool_idle_seconds: must be an integer from 10 to 86400, got "5")"},
        {"log_level: verbose\n",
         R"(cfg.yaml:1: log_level: must be trace, debug, info, warn or error, got "verbose")"},
        {"log_format: xml\n", R"(cfg.yaml:1: log_format: must be text or json, got "xml")"},
        {"kernel: vmlinuz\n", R"(cfg.yaml:1: kernel: must be an absolute path, got "vmlinuz")"},
        {"state_root: \"\"\n", R"(cfg.yaml:1: state_root: must be an absolute path, got "")"},
        {"paths:\n  broker: /b\n  brokr: /c\n", "cfg.yaml:3: paths.brokr: unknown key"},
        {"paths:\n  vmm: bin/runvm-vmm\n",
         "cfg.yaml:2: paths.vmm: must be a program name or an absolute path"},
        {"paths: /usr/bin\n", "cfg.yaml:1: paths: must be a mapping of keys"},
        {"vcpus: 1\nvcpus: 2\n", "cfg.yaml:2: vcpus: duplicate key"},
        {"vcpus:\n", "cfg.yaml:1: vcpus: has no value"},
        {"vcpus: [1, 2]\n", "cfg.yaml:1: vcpus: must be a single value"},
        {"- vcpus\n", "cfg.yaml:1: must be a mapping of keys"},
        {"? [a, b]\n: c\n", "cfg.yaml:1: (top level): keys must be plain names"},
        {"vcpus: 2\nkernel: [\n", "cfg.yaml:3:1: end of sequence flow not found"},
    };
    for (const auto& [yaml, message] : cases) {
        BOOST_TEST_CONTEXT(yaml) {
            BOOST_TEST(parse_error(yaml) == message);
        }
    }
}

BOOST_AUTO_TEST_CASE(load_reads_a_file_and_a_missing_one_means_defaults) {
    char dir[] = "/tmp/runvm-config-test.XXXXXX";
    BOOST_TEST_REQUIRE(::mkdtemp(dir) != nullptr);
    const std::string path = std::string(dir) + "/config.yaml";
    auto missing = load_runtime_config(path);
    BOOST_TEST_REQUIRE(missing.ok());
    BOOST_TEST((*missing == RuntimeConfig{}));

    BOOST_TEST_REQUIRE(runvm::write_file_atomic(path, "vcpus: 3\nmemory_mib: 12\n", 0644).ok());
    auto bad = load_runtime_config(path);
    BOOST_TEST_REQUIRE(!bad.ok());
    BOOST_TEST(bad.error().message() ==
               path + R"(:2: memory_mib: must be an integer from 64 to 1048576, got "12")");

    BOOST_TEST_REQUIRE(runvm::write_file_atomic(path, "vcpus: 3\n", 0644).ok());
    auto loaded = load_runtime_config(path);
    BOOST_TEST_REQUIRE(loaded.ok());
    BOOST_TEST(loaded->vcpus == 3u);

    auto directory = load_runtime_config(dir); // read(2) of a directory fails with EISDIR
    BOOST_TEST_REQUIRE(!directory.ok());
    BOOST_TEST(directory.error().code() == EISDIR);
    std::filesystem::remove_all(dir);
}

namespace {

RuntimeConfig all_annotations_enabled() {
    RuntimeConfig base;
    for (const AnnotationKey& k : annotation_keys()) {
        base.annotations.enabled.emplace_back(k.key);
    }
    base.max_vcpus = 8;
    base.max_memory_mib = 4096;
    return base;
}

// A scratch directory removed at the end of the test.
struct ScratchDir {
    ScratchDir() {
        char name[] = "/tmp/runvm-annotations-XXXXXX";
        path = ::mkdtemp(name);
    }
    ~ScratchDir() { std::filesystem::remove_all(path); }
    void file(const std::string& name) const { std::ofstream(path + "/" + name) << "x"; }
    std::string path;
};

} // namespace

BOOST_AUTO_TEST_CASE(annotations_override_per_container) {
    ScratchDir images;
    images.file("custom");
    images.file("initrd");
    RuntimeConfig base = all_annotations_enabled();
    base.kernel = "/boot/default";
    base.annotations.allowed_paths = {images.path};
    auto c = apply_annotations(base, {{"io.runvm.vcpus", "2"},
                                      {"io.runvm.memory", "1024"},
                                      {"io.runvm.initrd", images.path + "/initrd"},
                                      {"io.runvm.kernel", images.path + "/custom"},
                                      {"io.runvm.hypervisor", "kvm"},
                                      {"io.runvm.rootfs", "virtiofs"},
                                      {"io.kubernetes.cri.sandbox-id", "abc"}});
    BOOST_TEST_REQUIRE(c.ok(), (c.ok() ? "" : c.error().str()));
    BOOST_TEST(c->vcpus == 2u);
    BOOST_TEST(c->memory_mib == 1024u);
    BOOST_TEST(c->kernel == images.path + "/custom");
    BOOST_TEST(c->initrd == images.path + "/initrd");
    BOOST_TEST((c->hypervisor == Hypervisor::kvm));
    BOOST_TEST((c->rootfs == RootfsMode::virtiofs));
    BOOST_TEST((*apply_annotations(base, {}) == base));

    const std::vector<std::pair<std::pair<std::string, std::string>, std::string>> bad = {
        {{"io.runvm.vcpus", "abc"},
         R"(annotation io.runvm.vcpus: must be an integer from 1 to 255, got "abc")"},
        {{"io.runvm.memory", "1048577"},
         R"(annotation io.runvm.memory: must be an integer from 64 to 1048576, got "1048577")"},
        {{"io.runvm.kernel", "vmlinuz"},
         R"(annotation io.runvm.kernel: must be an absolute path, got "vmlinuz")"},
        {{"io.runvm.hypervisor", "firecracker"},
         R"(annotation io.runvm.hypervisor: must be auto, kvm or qemu, got "firecracker")"},
        {{"io.runvm.rootfs", "ext4"},
         R"(annotation io.runvm.rootfs: must be auto, block or virtiofs, got "ext4")"},
        {{"io.runvm.vcpus", "9"},
         "annotation io.runvm.vcpus: 9 is above the ceiling of 8 (max_vcpus)"},
        {{"io.runvm.memory", "4097"},
         "annotation io.runvm.memory: 4097 is above the ceiling of 4096 (max_memory_mib)"},
        {{"io.runvm.initrd", "/etc/shadow"},
         "annotation io.runvm.initrd: /etc/shadow is outside the allowed paths "
         "(annotations.paths: " +
             images.path + ")"},
        {{"io.runvm.cpus", "2"},
         "annotation io.runvm.cpus: unknown key (`runvm features` lists the known ones)"},
    };
    for (const auto& [annotation, message] : bad) {
        BOOST_TEST_CONTEXT(annotation.first) {
            auto r = apply_annotations(base, {annotation});
            BOOST_TEST_REQUIRE(!r.ok());
            BOOST_TEST(r.error().message() == message);
        }
    }
}

// Kata's enable_annotations: nothing unless the operator lists the key.
BOOST_AUTO_TEST_CASE(annotations_are_refused_unless_enabled) {
    RuntimeConfig base;
    for (const AnnotationKey& k : annotation_keys()) {
        BOOST_TEST_CONTEXT(k.key) {
            auto r = apply_annotations(base, {{std::string(k.key), "1"}});
            BOOST_TEST_REQUIRE(!r.ok());
            BOOST_TEST(r.error().code() == EPERM);
            BOOST_TEST(r.error().message() ==
                       "annotation " + std::string(k.key) +
                           ": not enabled by the runtime's configuration (config.yaml "
                           "annotations.enable)");
        }
    }
    base.annotations.enabled = {"io.runvm.vcpus"};
    base.max_vcpus = 4;
    BOOST_TEST(apply_annotations(base, {{"io.runvm.vcpus", "3"}})->vcpus == 3u);
    BOOST_TEST(!apply_annotations(base, {{"io.runvm.memory", "512"}}).ok());
}

// A path annotation resolves beneath an allowed directory: a symlink may stay inside it, never
// lead out, and ".." cannot climb out either.
BOOST_AUTO_TEST_CASE(path_annotations_stay_inside_the_allowed_directories) {
    ScratchDir images;
    images.file("vmlinuz");
    std::filesystem::create_directory(images.path + "/sub");
    std::filesystem::create_symlink("../vmlinuz", images.path + "/sub/current");
    std::filesystem::create_symlink("/etc/passwd", images.path + "/escape");
    std::filesystem::create_symlink("../../../../etc/passwd", images.path + "/sub/climb");
    RuntimeConfig base = all_annotations_enabled();
    base.annotations.allowed_paths = {images.path + "/"};

    auto inside = apply_annotations(base, {{"io.runvm.kernel", images.path + "/sub/current"}});
    BOOST_TEST_REQUIRE(inside.ok(), (inside.ok() ? "" : inside.error().str()));
    BOOST_TEST(inside->kernel == images.path + "/vmlinuz"); // what the VM is given: no symlink

    for (const std::string name : {"/escape", "/sub/climb", "/sub/../../etc/passwd"}) {
        BOOST_TEST_CONTEXT(name) {
            auto r = apply_annotations(base, {{"io.runvm.kernel", images.path + name}});
            BOOST_TEST_REQUIRE(!r.ok());
            BOOST_TEST(r.error().code() == EPERM);
            BOOST_TEST(r.error().message() == "annotation io.runvm.kernel: " + images.path + name +
                                                  " leads out of the allowed directory " +
                                                  images.path);
        }
    }
    auto directory = apply_annotations(base, {{"io.runvm.kernel", images.path + "/sub"}});
    BOOST_TEST_REQUIRE(!directory.ok());
    BOOST_TEST(directory.error().message() ==
               "annotation io.runvm.kernel: " + images.path + "/sub is not a regular file");
    auto missing = apply_annotations(base, {{"io.runvm.initrd", images.path + "/none"}});
    BOOST_TEST_REQUIRE(!missing.ok());
    BOOST_TEST(missing.error().code() == ENOENT);
    // A prefix of a name is not its directory.
    auto sibling = apply_annotations(base, {{"io.runvm.kernel", images.path + "x/vmlinuz"}});
    BOOST_TEST_REQUIRE(!sibling.ok());
    BOOST_TEST(sibling.error().code() == EPERM);
}

BOOST_AUTO_TEST_CASE(annotation_policy_and_jail_from_the_file) {
    auto c = parse_runtime_config("annotations:\n"
                                  "  enable: [io.runvm.vcpus, io.runvm.kernel]\n"
                                  "  paths:\n"
                                  "    - /var/lib/runvm/kernels\n"
                                  "jail: off\n"
                                  "jail_user: runvm-jail\n"
                                  "jail_vm_ids: 200000:1000\n",
                                  "config.yaml");
    BOOST_TEST_REQUIRE(c.ok(), (c.ok() ? "" : c.error().str()));
    BOOST_TEST(c->annotations.enabled ==
                   (std::vector<std::string>{"io.runvm.vcpus", "io.runvm.kernel"}),
               boost::test_tools::per_element());
    BOOST_TEST(c->annotations.allowed_paths == (std::vector<std::string>{"/var/lib/runvm/kernels"}),
               boost::test_tools::per_element());
    BOOST_TEST(!c->jail);
    BOOST_TEST(RuntimeConfig{}.jail);
    BOOST_TEST(c->jail_user == "runvm-jail");
    BOOST_TEST((c->jail_vm_ids == IdRange{200000, 1000}));
    BOOST_TEST((RuntimeConfig{}.jail_vm_ids == IdRange{1879113728, 65536}));
    BOOST_TEST(RuntimeConfig{}.annotations.enabled.empty());

    const std::vector<std::pair<std::string, std::string>> bad = {
        {"annotations:\n  enable: [io.runvm.cpus]\n",
         "config.yaml:2: annotations.enable: unknown annotation \"io.runvm.cpus\" (`runvm "
         "features` lists the known ones)"},
        {"annotations:\n  enable: io.runvm.vcpus\n",
         "config.yaml:2: annotations.enable: must be a list ([a, b] or one \"- item\" a line)"},
        {"annotations:\n  paths: [relative]\n",
         "config.yaml:2: annotations.paths: must be an absolute path, got \"relative\""},
        {"jail: maybe\n", "config.yaml:1: jail: must be on or off, got \"maybe\""},
        {"jail_user: Root\n", "config.yaml:1: jail_user: must be a user name ([a-z_][a-z0-9_-]*, "
                              "at most 32 characters), got \"Root\""},
        {"jail_vm_ids: 0:10\n", "config.yaml:1: jail_vm_ids: must be FIRST:COUNT, ids from 1 to "
                                "4294967294, got \"0:10\""},
        {"jail_vm_ids: 4294967290:10\n", "config.yaml:1: jail_vm_ids: must be FIRST:COUNT, ids "
                                         "from 1 to 4294967294, got \"4294967290:10\""},
        {"jail_vm_ids: 5000\n", "config.yaml:1: jail_vm_ids: must be FIRST:COUNT, ids from 1 to "
                                "4294967294, got \"5000\""},
    };
    for (const auto& [text, message] : bad) {
        BOOST_TEST_CONTEXT(text) {
            auto r = parse_runtime_config(text, "config.yaml");
            BOOST_TEST_REQUIRE(!r.ok());
            BOOST_TEST(r.error().message() == message);
        }
    }
}

BOOST_AUTO_TEST_CASE(hypervisor_names_and_the_programs_name) {
    BOOST_TEST((parse_hypervisor("kvm").value() == Hypervisor::kvm));
    BOOST_TEST((parse_hypervisor("runvm-vmm").value() == Hypervisor::kvm));
    BOOST_TEST((parse_hypervisor("qemu").value() == Hypervisor::qemu));
    BOOST_TEST(!parse_hypervisor("xen").ok());
}

BOOST_AUTO_TEST_CASE(environment_overrides_and_names_the_variable) {
    RuntimeConfig c;
    ::setenv("RUNVM_VCPUS", "4", 1);
    ::setenv("RUNVM_BOOT_TIMEOUT_MS", "5000", 1);
    ::setenv("RUNVM_VMM", "/opt/runvm-vmm", 1);
    auto ok = apply_environment(c);
    ::unsetenv("RUNVM_BOOT_TIMEOUT_MS");
    ::unsetenv("RUNVM_VMM");
    BOOST_TEST_REQUIRE(ok.ok());
    BOOST_TEST(c.vcpus == 4u);
    BOOST_TEST(c.boot_timeout.count() == 5000);
    BOOST_TEST(c.paths.vmm == "/opt/runvm-vmm");
    ::setenv("RUNVM_VCPUS", "256", 1);
    auto bad = apply_environment(c);
    ::unsetenv("RUNVM_VCPUS");
    BOOST_TEST_REQUIRE(!bad.ok());
    BOOST_TEST(bad.error().message() ==
               R"(RUNVM_VCPUS: must be an integer from 1 to 255, got "256")");
    BOOST_TEST(c.vcpus == 4u); // a refused value changes nothing
}

// docs/config.md's annotation table lists exactly the keys the parser (and `runvm features`)
// reads from annotations.cpp's table.
BOOST_AUTO_TEST_CASE(docs_list_exactly_the_annotation_table) {
    auto doc = runvm::read_file(std::string(RUNVM_SOURCE_DIR) + "/docs/config.md");
    BOOST_TEST_REQUIRE(doc.ok());
    std::set<std::string> documented;
    std::istringstream lines(*doc);
    std::string line;
    while (std::getline(lines, line)) {
        const std::string prefix = "| `io.runvm.";
        if (line.rfind(prefix, 0) == 0) {
            const auto end = line.find('`', 3);
            documented.insert(line.substr(3, end - 3));
        }
    }
    std::set<std::string> table;
    for (const AnnotationKey& k : annotation_keys()) {
        BOOST_TEST(table.insert(std::string(k.key)).second, "twice in the table: " << k.key);
        BOOST_TEST(!k.description.empty());
    }
    BOOST_TEST(documented == table, boost::test_tools::per_element());
}
