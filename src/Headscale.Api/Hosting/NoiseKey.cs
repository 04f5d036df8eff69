namespace Headscale.Api.Hosting;

/// <summary>The server's long-term Noise (machine) key, loaded once at start.</summary>
public sealed class NoiseKey(PrivateKeyFile file)
{
    public PrivateKeyFile File { get; } = file;

    /// <summary>The public key in Tailscale's text form <c>mkey:&lt;64 hex&gt;</c>.</summary>
    public string PublicKeyText { get; } = "mkey:" + Convert.ToHexStringLower(file.PublicKey);
}
