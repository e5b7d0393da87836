"""``docker.utils``: docker-py's helper package, in its layout.

Submodules: ``utils`` (the flat conversions), ``socket`` (reading attach streams), ``proxy``
(``ProxyConfig``), ``json_stream``, ``build`` (build contexts), ``decorators``, ``ports``,
``config`` (finding config.json) and ``fnmatch``.  The package may do I/O (it reads files and
sockets), so it sits above ``config`` in the layering and below the clients.
"""

from __future__ import annotations

from .build import create_archive, exclude_paths, match_tag, mkbuildcontext, tar
from .decorators import check_resource, minimum_version, update_headers
from .utils import (
    compare_version,
    convert_filters,
    convert_port_bindings,
    convert_service_networks,
    convert_tmpfs_mounts,
    convert_volume_binds,
    create_host_config,
    create_ipam_config,
    create_ipam_pool,
    datetime_to_timestamp,
    decode_json_header,
    format_environment,
    format_extra_hosts,
    kwargs_from_env,
    normalize_links,
    parse_bytes,
    parse_devices,
    parse_env_file,
    parse_host,
    parse_repository_tag,
    split_command,
    version_gte,
    version_lt,
)

__all__ = [
    "check_resource",
    "compare_version",
    "convert_filters",
    "convert_port_bindings",
    "convert_service_networks",
    "convert_tmpfs_mounts",
    "convert_volume_binds",
    "create_archive",
    "create_host_config",
    "create_ipam_config",
    "create_ipam_pool",
    "datetime_to_timestamp",
    "decode_json_header",
    "exclude_paths",
    "format_environment",
    "format_extra_hosts",
    "kwargs_from_env",
    "match_tag",
    "minimum_version",
    "mkbuildcontext",
    "normalize_links",
    "parse_bytes",
    "parse_devices",
    "parse_env_file",
    "parse_host",
    "parse_repository_tag",
    "split_command",
    "tar",
    "update_headers",
    "version_gte",
    "version_lt",
]
