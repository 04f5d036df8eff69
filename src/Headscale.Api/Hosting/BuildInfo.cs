using System.Reflection;

namespace Headscale.Api.Hosting;

/// <summary>Version facts reported by <c>/version</c> and <c>headscale version</c>.</summary>
public static class BuildInfo
{
    public const string ProductName = "headscale-actors";

    /// <summary>
    /// The Headscale release whose API we match. Headplane parses <c>/version</c> as semver to decide
    /// which request shapes to use, so this must name the compatible Headscale version, not ours.
    /// </summary>
    public const string CompatibleHeadscaleVersion = "v0.27.1";

    public static string ProductVersion { get; } =
        typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static string Commit { get; } =
        typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+') is [_, var commit, ..]
            ? commit
            : "unknown";

    public static string BuildTime { get; } = File.GetLastWriteTimeUtc(typeof(BuildInfo).Assembly.Location).ToString("O");
}
