using System.Collections.Frozen;

namespace Headscale.Api.Configuration;

/// <summary>
/// Every configuration key the server reads, with Headscale's names (0.27, plus the few later keys
/// we support) and our own <c>cluster.*</c> keys. Keys not listed here are reported as unknown.
/// </summary>
public static class ConfigSchema
{
    /// <summary>Prefix of environment overrides: <c>database.type</c> → <c>HEADSCALE_DATABASE_TYPE</c>.</summary>
    public const string EnvironmentPrefix = "HEADSCALE_";

    public static readonly FrozenDictionary<string, ConfigKeyKind> Keys = new Dictionary<string, ConfigKeyKind>
    {
        ["server_url"] = ConfigKeyKind.Scalar,
        ["listen_addr"] = ConfigKeyKind.Scalar,
        ["metrics_listen_addr"] = ConfigKeyKind.Scalar,
        ["grpc_listen_addr"] = ConfigKeyKind.Scalar,
        ["grpc_allow_insecure"] = ConfigKeyKind.Scalar,
        ["noise.private_key_path"] = ConfigKeyKind.Scalar,
        ["unix_socket"] = ConfigKeyKind.Scalar,
        ["unix_socket_permission"] = ConfigKeyKind.Scalar,
        ["disable_check_updates"] = ConfigKeyKind.Scalar,
        ["trusted_proxies"] = ConfigKeyKind.List,

        ["prefixes.v4"] = ConfigKeyKind.Scalar,
        ["prefixes.v6"] = ConfigKeyKind.Scalar,
        ["prefixes.allocation"] = ConfigKeyKind.Scalar,

        ["derp.server.enabled"] = ConfigKeyKind.Scalar,
        ["derp.server.region_id"] = ConfigKeyKind.Scalar,
        ["derp.server.region_code"] = ConfigKeyKind.Scalar,
        ["derp.server.region_name"] = ConfigKeyKind.Scalar,
        ["derp.server.verify_clients"] = ConfigKeyKind.Scalar,
        ["derp.server.stun_listen_addr"] = ConfigKeyKind.Scalar,
        ["derp.server.private_key_path"] = ConfigKeyKind.Scalar,
        ["derp.server.automatically_add_embedded_derp_region"] = ConfigKeyKind.Scalar,
        ["derp.server.ipv4"] = ConfigKeyKind.Scalar,
        ["derp.server.ipv6"] = ConfigKeyKind.Scalar,
        ["derp.server.mesh_key_path"] = ConfigKeyKind.Scalar,
        ["derp.server.mesh_with"] = ConfigKeyKind.List,
        ["derp.urls"] = ConfigKeyKind.List,
        ["derp.paths"] = ConfigKeyKind.List,
        ["derp.auto_update_enabled"] = ConfigKeyKind.Scalar,
        ["derp.update_frequency"] = ConfigKeyKind.Scalar,

        ["ephemeral_node_inactivity_timeout"] = ConfigKeyKind.Scalar,
        ["node.expiry"] = ConfigKeyKind.Scalar,
        ["node.ephemeral.inactivity_timeout"] = ConfigKeyKind.Scalar,

        ["database.type"] = ConfigKeyKind.Scalar,
        ["database.debug"] = ConfigKeyKind.Scalar,
        ["database.gorm.prepare_stmt"] = ConfigKeyKind.Scalar,
        ["database.gorm.parameterized_queries"] = ConfigKeyKind.Scalar,
        ["database.gorm.skip_err_record_not_found"] = ConfigKeyKind.Scalar,
        ["database.gorm.slow_threshold"] = ConfigKeyKind.Scalar,
        ["database.sqlite.path"] = ConfigKeyKind.Scalar,
        ["database.sqlite.write_ahead_log"] = ConfigKeyKind.Scalar,
        ["database.sqlite.wal_autocheckpoint"] = ConfigKeyKind.Scalar,
        ["database.postgres.host"] = ConfigKeyKind.Scalar,
        ["database.postgres.port"] = ConfigKeyKind.Scalar,
        ["database.postgres.name"] = ConfigKeyKind.Scalar,
        ["database.postgres.user"] = ConfigKeyKind.Scalar,
        ["database.postgres.pass"] = ConfigKeyKind.Scalar,
        ["database.postgres.ssl"] = ConfigKeyKind.Scalar,
        ["database.postgres.max_open_conns"] = ConfigKeyKind.Scalar,
        ["database.postgres.max_idle_conns"] = ConfigKeyKind.Scalar,
        ["database.postgres.conn_max_idle_time_secs"] = ConfigKeyKind.Scalar,

        ["acme_url"] = ConfigKeyKind.Scalar,
        ["acme_email"] = ConfigKeyKind.Scalar,
        ["tls_letsencrypt_hostname"] = ConfigKeyKind.Scalar,
        ["tls_letsencrypt_cache_dir"] = ConfigKeyKind.Scalar,
        ["tls_letsencrypt_challenge_type"] = ConfigKeyKind.Scalar,
        ["tls_letsencrypt_listen"] = ConfigKeyKind.Scalar,
        ["tls_cert_path"] = ConfigKeyKind.Scalar,
        ["tls_key_path"] = ConfigKeyKind.Scalar,

        ["log.level"] = ConfigKeyKind.Scalar,
        ["log.format"] = ConfigKeyKind.Scalar,

        ["policy.mode"] = ConfigKeyKind.Scalar,
        ["policy.path"] = ConfigKeyKind.Scalar,

        ["dns.magic_dns"] = ConfigKeyKind.Scalar,
        ["dns.base_domain"] = ConfigKeyKind.Scalar,
        ["dns.override_local_dns"] = ConfigKeyKind.Scalar,
        ["dns.nameservers.global"] = ConfigKeyKind.List,
        ["dns.nameservers.split"] = ConfigKeyKind.Structured,
        ["dns.search_domains"] = ConfigKeyKind.List,
        ["dns.extra_records"] = ConfigKeyKind.Structured,
        ["dns.extra_records_path"] = ConfigKeyKind.Scalar,

        ["oidc.only_start_if_oidc_is_available"] = ConfigKeyKind.Scalar,
        ["oidc.issuer"] = ConfigKeyKind.Scalar,
        ["oidc.client_id"] = ConfigKeyKind.Scalar,
        ["oidc.client_secret"] = ConfigKeyKind.Scalar,
        ["oidc.client_secret_path"] = ConfigKeyKind.Scalar,
        ["oidc.scope"] = ConfigKeyKind.List,
        ["oidc.extra_params"] = ConfigKeyKind.Structured,
        ["oidc.allowed_domains"] = ConfigKeyKind.List,
        ["oidc.allowed_users"] = ConfigKeyKind.List,
        ["oidc.allowed_groups"] = ConfigKeyKind.List,
        ["oidc.expiry"] = ConfigKeyKind.Scalar,
        ["oidc.use_expiry_from_token"] = ConfigKeyKind.Scalar,
        ["oidc.pkce.enabled"] = ConfigKeyKind.Scalar,
        ["oidc.pkce.method"] = ConfigKeyKind.Scalar,
        ["oidc.email_verified_required"] = ConfigKeyKind.Scalar,

        ["logtail.enabled"] = ConfigKeyKind.Scalar,
        ["randomize_client_port"] = ConfigKeyKind.Scalar,
        ["taildrop.enabled"] = ConfigKeyKind.Scalar,

        ["cli.address"] = ConfigKeyKind.Scalar,
        ["cli.api_key"] = ConfigKeyKind.Scalar,
        ["cli.timeout"] = ConfigKeyKind.Scalar,
        ["cli.insecure"] = ConfigKeyKind.Scalar,

        ["tuning.batch_change_delay"] = ConfigKeyKind.Scalar,
        ["tuning.batcher_workers"] = ConfigKeyKind.Scalar,
        ["tuning.node_mapsession_buffered_chan_size"] = ConfigKeyKind.Scalar,
        ["tuning.notifier_send_timeout"] = ConfigKeyKind.Scalar,
        ["tuning.register_cache_expiration"] = ConfigKeyKind.Scalar,
        ["tuning.register_cache_cleanup"] = ConfigKeyKind.Scalar,
        ["tuning.map_keepalive_interval"] = ConfigKeyKind.Scalar,
        ["tuning.map_coalesce_window"] = ConfigKeyKind.Scalar,
        ["tuning.memory_reclaim"] = ConfigKeyKind.Scalar,

        ["cluster.hostname"] = ConfigKeyKind.Scalar,
        ["cluster.port"] = ConfigKeyKind.Scalar,
        ["cluster.seed_nodes"] = ConfigKeyKind.List,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Keys Headscale removed; a config that still has them is rejected with the replacement.</summary>
    public static readonly FrozenDictionary<string, string> Removed = new Dictionary<string, string>
    {
        ["acl_policy_path"] = "use policy.path",
        ["dns_config"] = "use the dns section",
        ["dns.use_username_in_magic_dns"] = "it was removed; MagicDNS names come from the node's given name",
        ["oidc.strip_email_domain"] = "it was removed",
        ["oidc.map_legacy_users"] = "it was removed",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Every dotted prefix of a known key (<c>database</c>, <c>database.postgres</c>, …).</summary>
    public static readonly FrozenSet<string> Sections = Keys.Keys
        .SelectMany(SectionsOf)
        .ToFrozenSet(StringComparer.Ordinal);

    public static string EnvironmentName(string key) =>
        EnvironmentPrefix + key.Replace('.', '_').ToUpperInvariant();

    private static IEnumerable<string> SectionsOf(string key)
    {
        for (var i = key.IndexOf('.'); i >= 0; i = key.IndexOf('.', i + 1))
        {
            yield return key[..i];
        }
    }
}
