namespace Headscale.Actors.Hosting;

/// <summary>Finds the <c>hocon/*.conf</c> tuning fallbacks shipped beside the binaries.</summary>
public static class HoconFiles
{
    public const string DirectoryName = "hocon";

    /// <summary>The fallback file every member loads (appended: typed options win over it).</summary>
    public const string FallbackFileName = "headscale.conf";

    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, DirectoryName);

    public static string FallbackPath(string? directory) =>
        Path.Combine(directory ?? DefaultDirectory, FallbackFileName);
}
