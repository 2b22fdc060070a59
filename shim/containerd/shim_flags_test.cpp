// Pure parts of the shim: flags, socket naming, mount options, envelopes, status mapping.
#include <csignal>
#include <cstdlib>

#include <boost/test/unit_test.hpp>
#include <sys/mount.h>

#include "containerd/api/events/task.pb.h"
#include "shim/containerd/event_publisher.hpp"
#include "shim/containerd/reaper.hpp"
#include "shim/containerd/rootfs_mounts.hpp"
#include "shim/containerd/shim_address.hpp"
#include "shim/containerd/shim_flags.hpp"
#include "shim/containerd/task_service.hpp"

using namespace runvm;
using namespace runvm::containerd;

BOOST_AUTO_TEST_SUITE(flags)

BOOST_AUTO_TEST_CASE(start_command_line_as_containerd_1_6_passes_it) {
    ::setenv("TTRPC_ADDRESS", "/run/containerd/containerd.sock.ttrpc", 1);
    auto f = parse_shim_flags({"-namespace", "default", "-address",
                               "/run/containerd/containerd.sock", "-publish-binary",
                               "/usr/bin/containerd", "-id", "c1", "-debug", "start"});
    BOOST_REQUIRE(f.ok());
    BOOST_TEST(f->namespace_name == "default");
    BOOST_TEST(f->address == "/run/containerd/containerd.sock");
    BOOST_TEST(f->publish_binary == "/usr/bin/containerd");
    BOOST_TEST(f->id == "c1");
    BOOST_TEST(f->debug);
    BOOST_TEST(f->action == "start");
    BOOST_TEST(f->ttrpc_address == "/run/containerd/containerd.sock.ttrpc");
    ::unsetenv("TTRPC_ADDRESS");
}

BOOST_AUTO_TEST_CASE(equals_form_double_dash_and_delete) {
    auto f = parse_shim_flags(
        {"--namespace=k8s.io", "-id=abc", "-bundle", "/b", "-debug=false", "delete"});
    BOOST_REQUIRE(f.ok());
    BOOST_TEST(f->namespace_name == "k8s.io");
    BOOST_TEST(f->id == "abc");
    BOOST_TEST(f->bundle == "/b");
    BOOST_TEST(!f->debug);
    BOOST_TEST(f->action == "delete");
}

BOOST_AUTO_TEST_CASE(no_action_is_the_daemon_and_namespace_env_fills_in) {
    ::setenv("NAMESPACE", "ns1", 1);
    ::setenv("GRPC_ADDRESS", "/x.sock", 1);
    auto f = parse_shim_flags({"-id", "c"});
    ::unsetenv("NAMESPACE");
    ::unsetenv("GRPC_ADDRESS");
    BOOST_REQUIRE(f.ok());
    BOOST_TEST(f->action.empty());
    BOOST_TEST(f->namespace_name == "ns1");
    BOOST_TEST(f->address == "/x.sock");
}

BOOST_AUTO_TEST_CASE(errors_name_the_flag) {
    auto missing_ns = parse_shim_flags({"-id", "c", "start"});
    BOOST_REQUIRE(!missing_ns.ok());
    BOOST_TEST(missing_ns.error().str().find("namespace") != std::string::npos);
    auto unknown = parse_shim_flags({"-namespace", "n", "-bogus", "1"});
    BOOST_REQUIRE(!unknown.ok());
    BOOST_TEST(unknown.error().str().find("-bogus") != std::string::npos);
    auto no_value = parse_shim_flags({"-namespace"});
    BOOST_REQUIRE(!no_value.ok());
    BOOST_TEST(no_value.error().str().find("needs an argument") != std::string::npos);
    BOOST_TEST(!parse_shim_flags({"-namespace", "n", "frobnicate"}).ok());
    BOOST_TEST(!parse_shim_flags({"-namespace", "n", "-debug=maybe"}).ok());
}

BOOST_AUTO_TEST_CASE(daemon_args_keep_the_identity) {
    ShimFlags f;
    f.namespace_name = "default";
    f.id = "c1";
    f.address = "/a.sock";
    f.debug = true;
    const std::vector<std::string> want = {"/shim", "-namespace", "default", "-id",
                                           "c1",    "-address",   "/a.sock", "-debug"};
    BOOST_TEST(daemon_args("/shim", f) == want);
    auto back = parse_shim_flags({want.begin() + 1, want.end()});
    BOOST_REQUIRE(back.ok());
    BOOST_TEST(back->action.empty());
    BOOST_TEST(back->id == "c1");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(naming)

BOOST_AUTO_TEST_CASE(socket_address_matches_containerd_1_6) {
    // sha256("/run/containerd/containerd.sock/default/c1"), as Go's SocketAddress computes.
    BOOST_TEST(socket_address("/run/containerd/containerd.sock", "default", "c1") ==
               "unix:///run/containerd/s/"
               "d25aa4ef11a84e954e74a5bcff06557d0b6ea8d0c00243896f29826694bbd888");
    BOOST_TEST(sha256_hex("") ==
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

BOOST_AUTO_TEST_CASE(go_path_join_cleans_like_filepath_join) {
    BOOST_TEST(go_path_join("/run/x.sock", "default", "c1") == "/run/x.sock/default/c1");
    BOOST_TEST(go_path_join("/run//x/", "./ns", "id") == "/run/x/ns/id");
    BOOST_TEST(go_path_join("/a/b", "..", "c") == "/a/c");
    BOOST_TEST(go_path_join("", "ns", "id") == "ns/id");
    BOOST_TEST(go_path_join("/", "..", "x") == "/x");
}

BOOST_AUTO_TEST_CASE(socket_path_takes_unix_scheme_only) {
    auto p = socket_path("unix:///run/containerd/s/abc");
    BOOST_REQUIRE(p.ok());
    BOOST_TEST(*p == "/run/containerd/s/abc");
    BOOST_TEST(!socket_path("/run/x").ok());
    BOOST_TEST(!socket_path("unix://" + std::string(200, 'a')).ok());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(mount_options)

BOOST_AUTO_TEST_CASE(flags_and_data_split_like_containerd) {
    auto overlay = parse_mount_options(
        {"index=off", "workdir=/w", "upperdir=/u", "lowerdir=/l1:/l2", "nosuid", "ro"});
    BOOST_TEST(overlay.flags == static_cast<unsigned long>(MS_NOSUID | MS_RDONLY));
    BOOST_TEST(overlay.data == "index=off,workdir=/w,upperdir=/u,lowerdir=/l1:/l2");
    auto bind = parse_mount_options({"rbind", "rw", "rprivate"});
    BOOST_TEST(bind.flags == static_cast<unsigned long>(MS_BIND | MS_REC));
    BOOST_TEST(bind.data.empty());
    BOOST_TEST(bind.propagation_private);
    auto later_wins = parse_mount_options({"ro", "rw"});
    BOOST_TEST(later_wins.flags == 0UL);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(envelopes_and_codes)

BOOST_AUTO_TEST_CASE(envelope_uses_the_bare_type_name) {
    ::containerd::events::TaskExit ev;
    ev.set_container_id("c1");
    ev.set_exit_status(3);
    auto env = make_envelope("default", topic::kTaskExit, ev);
    BOOST_TEST(env.namespace_() == "default");
    BOOST_TEST(env.topic() == "/tasks/exit");
    BOOST_TEST(env.event().type_url() == "containerd.events.TaskExit");
    ::containerd::events::TaskExit back;
    BOOST_REQUIRE(back.ParseFromString(env.event().value()));
    BOOST_TEST(back.exit_status() == 3u);
    BOOST_TEST(env.timestamp().seconds() > 0);
}

BOOST_AUTO_TEST_CASE(exit_codes_follow_the_shell) {
    BOOST_TEST(exit_code_of(3 << 8) == 3);
    BOOST_TEST(exit_code_of(SIGKILL) == 137);
}

BOOST_AUTO_TEST_CASE(errno_maps_to_grpc_codes) {
    BOOST_TEST(status_from_error(Error::with_errno(ENOENT, "x")).code == rpc::kNotFound);
    BOOST_TEST(status_from_error(Error::with_errno(EEXIST, "x")).code == rpc::kAlreadyExists);
    BOOST_TEST(status_from_error(Error::with_errno(EINVAL, "x")).code == rpc::kInvalidArgument);
    BOOST_TEST(status_from_error(Error::with_errno(ENOTSUP, "x")).code == rpc::kUnimplemented);
    BOOST_TEST(status_from_error(Error::msg("boom")).code == rpc::kUnknown);
    BOOST_TEST(status_from_error(Error::msg("boom")).message == "boom");
}

BOOST_AUTO_TEST_SUITE_END()
