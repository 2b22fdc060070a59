// runvm-cri: a small CRI client (crictl is not packaged in Debian) that drives containerd's
// CRI plugin the way the kubelet does, one call per invocation, for tests/cri.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include "cri_api.grpc.pb.h"

namespace {

namespace cri = runtime::v1;

// What identifies a pod to CRI: every call about it (RunPodSandbox, CreateContainer)
// carries the same PodSandboxConfig, so both verbs build it from the same flags.
struct PodOptions {
    std::string name = "runvm-pod";
    std::string uid = "runvm-pod-uid";
    std::string ns = "default";
    std::string hostname;
    std::string log_dir;
    bool host_network = false;
    std::vector<std::string> annotations; // KEY=VALUE
};

cri::PodSandboxConfig pod_config(const PodOptions& o) {
    cri::PodSandboxConfig c;
    c.mutable_metadata()->set_name(o.name);
    c.mutable_metadata()->set_uid(o.uid);
    c.mutable_metadata()->set_namespace_(o.ns);
    // As the kubelet: a pod on the node's network keeps the node's UTS namespace and name.
    if (!o.host_network)
        c.set_hostname(o.hostname.empty() ? o.name : o.hostname);
    c.set_log_directory(o.log_dir);
    for (const auto& a : o.annotations) {
        const auto eq = a.find('=');
        (*c.mutable_annotations())[a.substr(0, eq)] =
            eq == std::string::npos ? "" : a.substr(eq + 1);
    }
    auto* ns = c.mutable_linux()->mutable_security_context()->mutable_namespace_options();
    ns->set_network(o.host_network ? cri::NODE : cri::POD);
    ns->set_pid(cri::CONTAINER);
    ns->set_ipc(cri::POD);
    return c;
}

void add_pod_flags(CLI::App* verb, PodOptions& o) {
    verb->add_option("--pod-name", o.name, "pod name (metadata.name)");
    verb->add_option("--pod-uid", o.uid, "pod uid (metadata.uid)");
    verb->add_option("--pod-namespace", o.ns, "pod namespace (metadata.namespace)");
    verb->add_option("--hostname", o.hostname,
                     "pod hostname (default: the pod name; none with --host-network)");
    verb->add_option("--log-dir", o.log_dir, "pod log directory");
    verb->add_flag("--host-network", o.host_network, "the node's network namespace");
    verb->add_option("--annotation", o.annotations, "pod annotation KEY=VALUE (repeatable)")
        ->allow_extra_args(false);
}

// A gRPC error names the call and the status, as a CRI client shows it.
int failed(const char* call, const grpc::Status& s) {
    std::fprintf(stderr, "runvm-cri: %s: gRPC status %d: %s\n", call,
                 static_cast<int>(s.error_code()), s.error_message().c_str());
    return 1;
}

std::unique_ptr<grpc::ClientContext> context(int timeout_s) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_s));
    return ctx;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"runvm-cri: a CRI client for runvm's tests (RuntimeService/ImageService subset)"};
    std::string endpoint;
    int timeout_s = 120;
    app.add_option("--endpoint", endpoint, "CRI socket, unix:///path")->required();
    app.add_option("--timeout", timeout_s, "seconds each call may take");
    app.require_subcommand(1);

    PodOptions pod;
    std::string handler, pod_id, container_id, name, image, log_path;
    std::vector<std::string> cmd, envs, mounts;
    int64_t stop_timeout = 10;

    auto* version = app.add_subcommand("version", "runtime name and versions");
    auto* image_status = app.add_subcommand("image-status", "is IMAGE known to the runtime");
    image_status->add_option("image", image)->required();
    auto* run_pod = app.add_subcommand("run-pod", "RunPodSandbox; prints the pod id");
    add_pod_flags(run_pod, pod);
    run_pod->add_option("--runtime-handler", handler, "containerd runtime name, e.g. runvm");
    auto* pod_status = app.add_subcommand("pod-status", "PodSandboxStatus: state, ip, handler");
    pod_status->add_option("pod", pod_id)->required();
    auto* create = app.add_subcommand("create", "CreateContainer in POD; prints the container id");
    add_pod_flags(create, pod);
    create->add_option("pod", pod_id)->required();
    create->add_option("name", name)->required();
    create->add_option("image", image)->required();
    create->add_option("--log-path", log_path, "log file, relative to the pod's log directory");
    create->add_option("--env", envs, "KEY=VALUE (repeatable)")->allow_extra_args(false);
    create->add_option("--mount", mounts, "HOST:CONTAINER[:ro] (repeatable)")
        ->allow_extra_args(false);
    create->add_option("cmd", cmd, "command and arguments")->required();
    auto* start = app.add_subcommand("start", "StartContainer");
    start->add_option("container", container_id)->required();
    auto* status = app.add_subcommand("status", "ContainerStatus: state, exit code, reason");
    status->add_option("container", container_id)->required();
    auto* exec = app.add_subcommand("exec", "ExecSync: the command's output and exit status");
    exec->add_option("container", container_id)->required();
    exec->add_option("cmd", cmd, "command and arguments")->required();
    auto* stop = app.add_subcommand("stop", "StopContainer");
    stop->add_option("container", container_id)->required();
    stop->add_option("--grace", stop_timeout, "seconds before SIGKILL");
    auto* rm = app.add_subcommand("rm", "RemoveContainer");
    rm->add_option("container", container_id)->required();
    auto* stop_pod = app.add_subcommand("stop-pod", "StopPodSandbox");
    stop_pod->add_option("pod", pod_id)->required();
    auto* rm_pod = app.add_subcommand("rm-pod", "RemovePodSandbox");
    rm_pod->add_option("pod", pod_id)->required();
    CLI11_PARSE(app, argc, argv);

    auto channel = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
    auto runtime = cri::RuntimeService::NewStub(channel);
    auto images = cri::ImageService::NewStub(channel);

    if (version->parsed()) {
        cri::VersionRequest req;
        cri::VersionResponse resp;
        if (auto s = runtime->Version(context(timeout_s).get(), req, &resp); !s.ok())
            return failed("Version", s);
        std::printf("%s %s (CRI %s)\n", resp.runtime_name().c_str(), resp.runtime_version().c_str(),
                    resp.runtime_api_version().c_str());
    } else if (image_status->parsed()) {
        cri::ImageStatusRequest req;
        cri::ImageStatusResponse resp;
        req.mutable_image()->set_image(image);
        if (auto s = images->ImageStatus(context(timeout_s).get(), req, &resp); !s.ok())
            return failed("ImageStatus", s);
        if (!resp.has_image()) {
            std::fprintf(stderr, "runvm-cri: ImageStatus: no image %s\n", image.c_str());
            return 1;
        }
        std::printf("%s\n", resp.image().id().c_str());
    } else if (run_pod->parsed()) {
        cri::RunPodSandboxRequest req;
        cri::RunPodSandboxResponse resp;
        *req.mutable_config() = pod_config(pod);
        req.set_runtime_handler(handler);
        if (auto s = runtime->RunPodSandbox(context(timeout_s).get(), req, &resp); !s.ok())
            return failed("RunPodSandbox", s);
        std::printf("%s\n", resp.pod_sandbox_id().c_str());
    } else if (pod_status->parsed()) {
        cri::PodSandboxStatusRequest req;
        cri::PodSandboxStatusResponse resp;
        req.set_pod_sandbox_id(pod_id);
        if (auto s = runtime->PodSandboxStatus(context(timeout_s).get(), req, &resp); !s.ok())
            return failed("PodSandboxStatus", s);
        std::printf("state=%s ip=%s handler=%s\n",
                    cri::PodSandboxState_Name(resp.status().state()).c_str(),
                    resp.status().network().ip().c_str(), resp.status().runtime_handler().c_str());
    } else if (create->parsed()) {
        cri::CreateContainerRequest req;
        cri::CreateContainerResponse resp;
        req.set_pod_sandbox_id(pod_id);
        *req.mutable_sandbox_config() = pod_config(pod);
        auto* c = req.mutable_config();
        c->mutable_metadata()->set_name(name);
        c->mutable_image()->set_image(image);
        for (const auto& word : cmd)
            c->add_command(word);
        c->set_log_path(log_path);
        for (const auto& kv : envs) {
            const auto eq = kv.find('=');
            if (eq == std::string::npos) {
                std::fprintf(stderr, "runvm-cri: --env %s: want KEY=VALUE\n", kv.c_str());
                return 2;
            }
            auto* e = c->add_envs();
            e->set_key(kv.substr(0, eq));
            e->set_value(kv.substr(eq + 1));
        }
        for (const auto& m : mounts) {
            const auto colon = m.find(':');
            if (colon == std::string::npos) {
                std::fprintf(stderr, "runvm-cri: --mount %s: want HOST:CONTAINER[:ro]\n",
                             m.c_str());
                return 2;
            }
            auto* mount = c->add_mounts();
            mount->set_host_path(m.substr(0, colon));
            std::string dest = m.substr(colon + 1);
            if (dest.size() > 3 && dest.compare(dest.size() - 3, 3, ":ro") == 0) {
                mount->set_readonly(true);
                dest.resize(dest.size() - 3);
            }
            mount->set_container_path(dest);
        }
        if (auto s = runtime->CreateContainer(context(timeout_s).get(), req, &resp); !s.ok())
            return failed("CreateContainer", s);
        std::printf("%s\n", resp.container_id().c_str());
    } else if (start->parsed()) {
        cri::StartContainerRequest req;
        cri::StartContainerResponse resp;
        req.set_container_id(container_id);
        if (auto s = runtime->StartContainer(context(timeout_s).get(), req, &resp); !s.ok())
            return failed("StartContainer", s);
    } else if (status->parsed()) {
        cri::ContainerStatusRequest req;
        cri::ContainerStatusResponse resp;
        req.set_container_id(container_id);
        if (auto s = runtime->ContainerStatus(context(timeout_s).get(), req, &resp); !s.ok())
            return failed("ContainerStatus", s);
        const auto& st = resp.status();
        std::printf("state=%s exit_code=%d reason=%s\n",
                    cri::ContainerState_Name(st.state()).c_str(), st.exit_code(),
                    st.reason().c_str());
    } else if (exec->parsed()) {
        cri::ExecSyncRequest req;
        cri::ExecSyncResponse resp;
        req.set_container_id(container_id);
        for (const auto& word : cmd)
            req.add_cmd(word);
        req.set_timeout(timeout_s);
        if (auto s = runtime->ExecSync(context(timeout_s + 10).get(), req, &resp); !s.ok())
            return failed("ExecSync", s);
        std::cout << resp.stdout();
        std::cerr << resp.stderr();
        return resp.exit_code();
    } else if (stop->parsed()) {
        cri::StopContainerRequest req;
        cri::StopContainerResponse resp;
        req.set_container_id(container_id);
        req.set_timeout(stop_timeout);
        if (auto s = runtime->StopContainer(context(timeout_s).get(), req, &resp); !s.ok())
            return failed("StopContainer", s);
    } else if (rm->parsed()) {
        cri::RemoveContainerRequest req;
        cri::RemoveContainerResponse resp;
        req.set_container_id(container_id);
        if (auto s = runtime->RemoveContainer(context(timeout_s).get(), req, &resp); !s.ok())
            return failed("RemoveContainer", s);
    } else if (stop_pod->parsed()) {
        cri::StopPodSandboxRequest req;
        cri::StopPodSandboxResponse resp;
        req.set_pod_sandbox_id(pod_id);
        if (auto s = runtime->StopPodSandbox(context(timeout_s).get(), req, &resp); !s.ok())
            return failed("StopPodSandbox", s);
    } else if (rm_pod->parsed()) {
        cri::RemovePodSandboxRequest req;
        cri::RemovePodSandboxResponse resp;
        req.set_pod_sandbox_id(pod_id);
        if (auto s = runtime->RemovePodSandbox(context(timeout_s).get(), req, &resp); !s.ok())
            return failed("RemovePodSandbox", s);
    }
    return 0;
}
