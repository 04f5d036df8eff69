using System.Text.Json;
using System.Text.Json.Serialization;

namespace Headscale.Api.ControlPlane;

/// <summary>
/// <c>tailcfg.RegisterRequest</c> as the client sends it (control-protocol spec §g.1). Only the
/// fields the server uses are bound; unknown fields are ignored as Go does.
/// </summary>
public sealed class RegisterRequest
{
    public int Version { get; set; }

    public string? NodeKey { get; set; }

    public string? OldNodeKey { get; set; }

    [JsonPropertyName("NLKey")]
    public string? NlKey { get; set; }

    public RegisterAuth? Auth { get; set; }

    /// <summary>RFC 3339; Go's zero time when unset. Kept as text: clients send 9 fractional digits and any offset.</summary>
    public string? Expiry { get; set; }

    public string? Followup { get; set; }

    public RegisterHostinfo? Hostinfo { get; set; }

    public bool Ephemeral { get; set; }
}

/// <summary><c>RegisterRequest.Auth</c>: the pre-auth key when the client was given one.</summary>
public sealed class RegisterAuth
{
    public string? AuthKey { get; set; }
}

/// <summary>The parts of <c>Hostinfo</c> registration needs.</summary>
public sealed class RegisterHostinfo
{
    public string? Hostname { get; set; }

    [JsonPropertyName("OS")]
    public string? Os { get; set; }
}

/// <summary><c>tailcfg.RegisterResponse</c> (spec §g.2).</summary>
public sealed class RegisterResponse
{
    public RegisterUser User { get; set; } = new();

    public RegisterLogin Login { get; set; } = new();

    public bool NodeKeyExpired { get; set; }

    public bool MachineAuthorized { get; set; }

    [JsonPropertyName("AuthURL")]
    public string AuthUrl { get; set; } = "";

    /// <summary>Always null: tailnet lock is not supported.</summary>
    public string? NodeKeySignature { get; set; }

    public string Error { get; set; } = "";
}

/// <summary><c>tailcfg.User</c> as sent in a RegisterResponse.</summary>
public sealed class RegisterUser
{
    [JsonPropertyName("ID")]
    public long Id { get; set; }

    public string DisplayName { get; set; } = "";

    [JsonPropertyName("ProfilePicURL")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? ProfilePicUrl { get; set; }
}

/// <summary><c>tailcfg.Login</c> as sent in a RegisterResponse.</summary>
public sealed class RegisterLogin
{
    [JsonPropertyName("ID")]
    public long Id { get; set; }

    public string Provider { get; set; } = "";

    public string LoginName { get; set; } = "";

    public string DisplayName { get; set; } = "";

    [JsonPropertyName("ProfilePicURL")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? ProfilePicUrl { get; set; }
}

/// <summary>
/// Source-generated metadata. Reading is case-insensitive because Go's decoder is; writing uses the
/// exact Go field names.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNameCaseInsensitive = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.Unspecified,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.Strict,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    MaxDepth = 32)]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(RegisterResponse))]
public sealed partial class ControlPlaneJsonContext : JsonSerializerContext;
