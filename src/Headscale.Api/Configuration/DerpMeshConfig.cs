using System.Collections.Immutable;
using Headscale.Derp.Mesh;

namespace Headscale.Api.Configuration;

/// <summary>
/// <c>derp.server.mesh_key_path</c> and <c>derp.server.mesh_with</c>: every host of a cluster runs a DERP server and
/// meshes it with the others, authenticated by a shared 32-byte key (derp-protocol.md §5).
/// </summary>
internal static class DerpMeshConfig
{
    public const string KeyPathKey = "derp.server.mesh_key_path";
    public const string MeshWithKey = "derp.server.mesh_with";

    /// <summary>A key file is 64 hex characters plus whitespace; anything much larger is not a key file.</summary>
    private const long MaxKeyFileBytes = 4096;

    /// <summary>The mesh key from its file (64 hex characters, surrounding whitespace ignored), or null when not configured.</summary>
    public static byte[]? MeshKey(ConfigReader r)
    {
        var path = r.Path(KeyPathKey, "");
        if (path.Length == 0)
        {
            if (!r.List(MeshWithKey).IsEmpty)
            {
                r.Fail(MeshWithKey, $"needs {KeyPathKey}: the servers of a mesh authenticate each other with a shared key");
            }

            return null;
        }

        string text;
        try
        {
            var file = new FileInfo(path);
            if (!file.Exists)
            {
                r.Fail(KeyPathKey, $"file '{path}' does not exist");
                return null;
            }

            if (file.Length > MaxKeyFileBytes)
            {
                r.Fail(KeyPathKey, $"file '{path}' is {file.Length} bytes; a mesh key file holds 64 hex characters");
                return null;
            }

            text = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            r.Fail(KeyPathKey, $"file '{path}' cannot be read: {e.Message}");
            return null;
        }

        // The message never quotes the file's content: it is a secret, even when malformed.
        if (text.Length != 64)
        {
            r.Fail(KeyPathKey, $"file '{path}' must hold the mesh key as 64 hex characters, found {text.Length} characters");
            return null;
        }

        if (!text.All(char.IsAsciiHexDigit))
        {
            r.Fail(KeyPathKey, $"file '{path}' must hold the mesh key as 64 hex characters, found a character that is not hex");
            return null;
        }

        return Convert.FromHexString(text);
    }

    /// <summary>The other servers' DERP URLs; a bare host name means <c>https://host/derp</c>.</summary>
    public static ImmutableArray<Uri> MeshWith(ConfigReader r)
    {
        var urls = ImmutableArray.CreateBuilder<Uri>();
        foreach (var entry in r.List(MeshWithKey))
        {
            try
            {
                urls.Add(DerpMeshPeer.ParseMeshUrl(entry));
            }
            catch (FormatException e)
            {
                r.Fail(MeshWithKey, e.Message);
            }
        }

        return urls.ToImmutable();
    }
}
