using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Headscale.Actors.Registration;

/// <summary>
/// Remembers which presented secret matched which bcrypt hash, so a reusable pre-auth key used by thousands of machines
/// costs one bcrypt verification per process instead of one per registration (about 150 ms of CPU each at work factor
/// 10). Only a SHA-256 of the secret is kept; the secrets are 32 random characters, so that digest reveals nothing
/// usable, and a wrong secret always goes through bcrypt.
/// </summary>
internal sealed class VerifiedSecrets
{
    private const int Capacity = 4096;
    private readonly ConcurrentDictionary<string, byte[]> _digests = new(StringComparer.Ordinal);

    public bool Verify(string secret, string bcryptHash)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        if (_digests.TryGetValue(bcryptHash, out var known) && CryptographicOperations.FixedTimeEquals(known, digest))
        {
            return true;
        }

        if (!BCrypt.Net.BCrypt.Verify(secret, bcryptHash))
        {
            return false;
        }

        if (_digests.Count >= Capacity)
        {
            _digests.Clear();
        }

        _digests[bcryptHash] = digest;
        return true;
    }
}
