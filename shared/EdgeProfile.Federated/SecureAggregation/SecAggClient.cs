using System.Security.Cryptography;

namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>
/// One client's side of a secure-aggregation round (Bonawitz et al., CCS 2017, semi-honest variant without the
/// signature and consistency-check rounds). Make one instance per round and call, in order:
/// <list type="number">
/// <item><see cref="AdvertiseKeys"/> (round 0): fresh P-256 keys <c>c_u</c> (share encryption) and <c>s_u</c>
/// (pairwise masks).</item>
/// <item><see cref="ShareKeys"/> (round 1): given the roster <c>U1</c> of advertisements, a fresh self-mask seed
/// <c>b_u</c>; <c>t</c>-of-<c>n</c> Shamir shares of <c>b_u</c> and of <c>s_u</c>'s private scalar, encrypted to
/// each peer.</item>
/// <item><see cref="MaskInput"/> (round 2): given the shares addressed to this client (their senders are
/// <c>U2</c>), the masked input <c>y_u = x_u + PRG(b_u) + Σ_{v∈U2, v&gt;u} PRG(s_uv) − Σ_{v∈U2, v&lt;u} PRG(s_uv)</c>
/// in the round's ring <c>Z_(2^64)</c> or <c>Z_(2^32)</c> (<see cref="SecAggConfig.RingBits"/>).</item>
/// <item><see cref="Unmask"/> (round 3): given who sent masked inputs (<c>U3</c>) and who dropped
/// (<c>U2 \ U3</c>), shares of <c>b_v</c> for survivors and of <c>s_v</c> for dropped clients — never both for one
/// client, across all requests.</item>
/// </list>
/// Client order (<c>v &gt; u</c>) and 1-based share indices follow the ordinal order of client ids in <c>U1</c>.
/// Not thread-safe; each method checks it is called at the right step.
/// </summary>
public sealed class SecAggClient : IDisposable
{
    private readonly int _parameterCount;
    private readonly SecAggConfig _config;
    private readonly RandomNumberGenerator _rng;
    private readonly bool _ownsRng;
    private readonly FixedPoint _fixedPoint;
    private readonly HashSet<string> _revealedSelfMask = new(StringComparer.Ordinal);
    private readonly HashSet<string> _revealedMaskingKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (byte[] MaskingKey, byte[] SelfMask)> _heldShares = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _shareKeys = new(StringComparer.Ordinal);
    private ECDiffieHellman? _encryptionKey;
    private ECDiffieHellman? _maskingKey;
    private byte[]? _maskingScalar;
    private byte[]? _selfMaskSeed;
    private SecAggAdvertisement? _advertisement;
    private Dictionary<string, SecAggAdvertisement>? _roster;
    private Dictionary<string, int>? _indices;
    private HashSet<string>? _sharedKeys;
    private Step _step = Step.Created;

    /// <summary>Creates the client of one round.</summary>
    /// <param name="clientId">This client's id (unique in the roster).</param>
    /// <param name="parameterCount">Length of the input vector.</param>
    /// <param name="config">The round's configuration (same as the server's).</param>
    /// <param name="rng">Source of keys, seeds, polynomial coefficients and nonces; the system generator if null.</param>
    public SecAggClient(string clientId, int parameterCount, SecAggConfig config, RandomNumberGenerator? rng = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        ArgumentOutOfRangeException.ThrowIfNegative(parameterCount);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate(config.Threshold);
        ClientId = clientId;
        _parameterCount = parameterCount;
        _config = config;
        _ownsRng = rng is null;
        _rng = rng ?? RandomNumberGenerator.Create();
        _fixedPoint = new FixedPoint(config.Scale, config.RingBits);
    }

    private enum Step
    {
        Created,
        Advertised,
        Shared,
        Masked,
    }

    /// <summary>This client's id.</summary>
    public string ClientId { get; }

    /// <summary>Round 0: makes this round's two key pairs and returns their public halves.</summary>
    public SecAggAdvertisement AdvertiseKeys()
    {
        Expect(Step.Created, nameof(AdvertiseKeys));
        (_encryptionKey, var encryptionScalar) = SecAggCrypto.GenerateKey(_rng);
        CryptographicOperations.ZeroMemory(encryptionScalar);
        (_maskingKey, _maskingScalar) = SecAggCrypto.GenerateKey(_rng);
        _advertisement = new SecAggAdvertisement(
            ClientId, _encryptionKey.ExportSubjectPublicKeyInfo(), _maskingKey.ExportSubjectPublicKeyInfo());
        _step = Step.Advertised;
        return _advertisement;
    }

    /// <summary>
    /// Round 1: checks the roster <c>U1</c> the server broadcast (this client in it with its own keys, at least
    /// <c>t</c> clients, no repeated id or key) and returns one encrypted share message per peer.
    /// </summary>
    public IReadOnlyList<SecAggEncryptedShare> ShareKeys(IReadOnlyList<SecAggAdvertisement> roster)
    {
        ArgumentNullException.ThrowIfNull(roster);
        Expect(Step.Advertised, nameof(ShareKeys));
        CheckRoster(roster);
        var ids = roster.Select(a => a.ClientId).Order(StringComparer.Ordinal).ToArray();
        _roster = roster.ToDictionary(a => a.ClientId, StringComparer.Ordinal);
        _indices = ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i + 1, StringComparer.Ordinal);

        var selfMaskSeed = ShamirSecretSharing.RandomElement(_rng);
        var keyShares = ShamirSecretSharing.Split(_maskingScalar, _config.Threshold, ids.Length, _rng);
        var selfShares = ShamirSecretSharing.Split(selfMaskSeed, _config.Threshold, ids.Length, _rng);
        var myIndex = _indices[ClientId];
        _heldShares[ClientId] = (keyShares[myIndex - 1], selfShares[myIndex - 1]);
        _selfMaskSeed = selfMaskSeed;

        var messages = new List<SecAggEncryptedShare>(ids.Length - 1);
        foreach (var peer in ids)
        {
            if (peer == ClientId)
            {
                continue;
            }
            var index = _indices[peer];
            var plaintext = new byte[2 * ShamirSecretSharing.ElementSize];
            keyShares[index - 1].CopyTo(plaintext, 0);
            selfShares[index - 1].CopyTo(plaintext, ShamirSecretSharing.ElementSize);
            var nonce = new byte[SecAggCrypto.NonceSize];
            _rng.GetBytes(nonce);
            var ciphertext = new byte[plaintext.Length];
            var tag = new byte[SecAggCrypto.TagSize];
            using (var aes = new AesGcm(PeerEncryptionKey(peer), SecAggCrypto.TagSize))
            {
                aes.Encrypt(nonce, plaintext, ciphertext, tag,
                    SecAggCrypto.ShareAssociatedData(_config.SessionId, ClientId, peer));
            }
            CryptographicOperations.ZeroMemory(plaintext);
            messages.Add(new SecAggEncryptedShare(ClientId, peer, nonce, ciphertext, tag));
        }
        _step = Step.Shared;
        return messages;
    }

    /// <summary>
    /// Round 2: decrypts the shares addressed to this client (each must authenticate; their senders and this client
    /// are <c>U2</c>, at least <c>t</c>), encodes <paramref name="input"/> in fixed point and returns it masked.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside <see cref="FixedPoint.MaxAbsValue"/> for the
    /// roster size (clip inputs before masking).</exception>
    public SecAggMaskedInput MaskInput(ReadOnlySpan<float> input, IReadOnlyList<SecAggEncryptedShare> sharesForMe)
    {
        ArgumentNullException.ThrowIfNull(sharesForMe);
        Expect(Step.Shared, nameof(MaskInput));
        if (input.Length != _parameterCount)
        {
            throw new ArgumentException($"input has {input.Length} parameters, the round has {_parameterCount}");
        }
        var limit = _fixedPoint.MaxAbsValue(_roster!.Count);
        foreach (var v in input)
        {
            if (!(Math.Abs(v) <= limit))
            {
                throw new ArgumentOutOfRangeException(
                    nameof(input), v, $"inputs must be finite and within ±{limit:G4} for {_roster.Count} clients");
            }
        }

        var decrypted = new Dictionary<string, (byte[], byte[])>(StringComparer.Ordinal);
        foreach (var share in sharesForMe)
        {
            decrypted.Add(CheckShareHeader(share, decrypted), Decrypt(share));
        }
        if (decrypted.Count + 1 < _config.Threshold)
        {
            throw new SecAggException(
                $"round 2: shares from {decrypted.Count} peers leave {decrypted.Count + 1} clients, below the threshold {_config.Threshold}");
        }
        foreach (var (peer, shares) in decrypted)
        {
            _heldShares[peer] = shares;
        }
        _sharedKeys = [.. decrypted.Keys, ClientId];

        var masked = _fixedPoint.EncodeBytes(input);
        var myIndex = _indices![ClientId];
        var streams = new List<MaskAccumulator.MaskStream>(decrypted.Count + 1)
        {
            new(SecAggCrypto.SelfMaskKey(_selfMaskSeed!, _config.SessionId), Subtract: false),
        };
        foreach (var peer in decrypted.Keys)
        {
            using var peerKey = SecAggCrypto.ImportPublic(_roster[peer].MaskingPublicKey, peer);
            var key = SecAggCrypto.PairMaskKey(_maskingKey!, peerKey, _config.SessionId);
            streams.Add(new(key, Subtract: _indices[peer] < myIndex));
        }
        MaskAccumulator.Apply(masked, streams, _config.RingBits, _config.MaxDegreeOfParallelism);
        _step = Step.Masked;
        return new SecAggMaskedInput(ClientId, masked);
    }

    /// <summary>
    /// Round 3: reveals this client's shares of <c>b_v</c> for every survivor and of <c>s_v</c> for every dropped
    /// client. Refuses (throws <see cref="SecAggException"/>, revealing nothing) when the request does not split
    /// exactly the clients it holds shares of, lists this client as dropped, has fewer than <c>t</c> survivors, or asks
    /// for a kind of share of a client whose other kind was revealed before.
    /// </summary>
    public SecAggUnmaskResponse Unmask(SecAggUnmaskRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        Expect(Step.Masked, nameof(Unmask));
        var survivors = new HashSet<string>(request.Survivors, StringComparer.Ordinal);
        var dropped = new HashSet<string>(request.Dropped, StringComparer.Ordinal);
        if (survivors.Count != request.Survivors.Length || dropped.Count != request.Dropped.Length)
        {
            throw new SecAggException("round 3: the unmask request repeats a client");
        }
        if (survivors.Overlaps(dropped))
        {
            throw new SecAggException(
                $"round 3: refused, {survivors.Intersect(dropped).First()} is listed both as survivor and as dropped");
        }
        if (!survivors.Union(dropped).ToHashSet(StringComparer.Ordinal).SetEquals(_sharedKeys!))
        {
            throw new SecAggException("round 3: survivors and dropped clients are not the clients that shared keys");
        }
        if (dropped.Contains(ClientId))
        {
            throw new SecAggException(
                "round 3: refused, the server lists this client as dropped after it sent its masked input");
        }
        if (survivors.Count < _config.Threshold)
        {
            throw new SecAggException(
                $"round 3: {survivors.Count} survivors is below the threshold {_config.Threshold}");
        }
        var both = survivors.FirstOrDefault(_revealedMaskingKey.Contains) ?? dropped.FirstOrDefault(_revealedSelfMask.Contains);
        if (both is not null)
        {
            throw new SecAggException(
                $"round 3: refused, revealing both the self-mask share and the masking-key share of {both} would expose its input");
        }
        _revealedSelfMask.UnionWith(survivors);
        _revealedMaskingKey.UnionWith(dropped);
        return new SecAggUnmaskResponse(
            ClientId,
            survivors.Order(StringComparer.Ordinal)
                .Select(v => new SecAggRevealedShare(v, (byte[])_heldShares[v].SelfMask.Clone())).ToArray(),
            dropped.Order(StringComparer.Ordinal)
                .Select(v => new SecAggRevealedShare(v, (byte[])_heldShares[v].MaskingKey.Clone())).ToArray());
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _encryptionKey?.Dispose();
        _maskingKey?.Dispose();
        if (_ownsRng)
        {
            _rng.Dispose();
        }
        if (_maskingScalar is not null)
        {
            CryptographicOperations.ZeroMemory(_maskingScalar);
        }
        if (_selfMaskSeed is not null)
        {
            CryptographicOperations.ZeroMemory(_selfMaskSeed);
        }
        foreach (var key in _shareKeys.Values)
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private void CheckRoster(IReadOnlyList<SecAggAdvertisement> roster)
    {
        if (roster.Select(a => a.ClientId).Distinct(StringComparer.Ordinal).Count() != roster.Count)
        {
            throw new SecAggException("round 1: the roster repeats a client id");
        }
        var me = roster.FirstOrDefault(a => a.ClientId == ClientId);
        if (me is null
            || !me.EncryptionPublicKey.AsSpan().SequenceEqual(_advertisement!.EncryptionPublicKey)
            || !me.MaskingPublicKey.AsSpan().SequenceEqual(_advertisement.MaskingPublicKey))
        {
            throw new SecAggException("round 1: the roster does not hold this client with the keys it advertised");
        }
        if (roster.Count < _config.Threshold)
        {
            throw new SecAggException(
                $"round 1: the roster has {roster.Count} clients, below the threshold {_config.Threshold}");
        }
        // A repeated key would let a server pose one client's keys as another's.
        var keys = roster.SelectMany(a => new[] { a.EncryptionPublicKey, a.MaskingPublicKey })
            .Select(Convert.ToBase64String);
        if (keys.Distinct(StringComparer.Ordinal).Count() != 2 * roster.Count)
        {
            throw new SecAggException("round 1: the roster repeats a public key");
        }
    }

    private string CheckShareHeader(SecAggEncryptedShare share, Dictionary<string, (byte[], byte[])> seen)
    {
        if (share.RecipientId != ClientId)
        {
            throw new SecAggException($"round 2: a share from {share.SenderId} is addressed to {share.RecipientId}");
        }
        if (share.SenderId == ClientId || !_roster!.ContainsKey(share.SenderId))
        {
            throw new SecAggException($"round 2: a share comes from {share.SenderId}, not a peer in the roster");
        }
        if (seen.ContainsKey(share.SenderId))
        {
            throw new SecAggException($"round 2: two shares from {share.SenderId}");
        }
        return share.SenderId;
    }

    private (byte[] MaskingKey, byte[] SelfMask) Decrypt(SecAggEncryptedShare share)
    {
        var size = ShamirSecretSharing.ElementSize;
        if (share.Nonce.Length != SecAggCrypto.NonceSize || share.Tag.Length != SecAggCrypto.TagSize
            || share.Ciphertext.Length != 2 * size)
        {
            throw new SecAggException($"round 2: the share from {share.SenderId} is malformed");
        }
        var plaintext = new byte[2 * size];
        try
        {
            using var aes = new AesGcm(PeerEncryptionKey(share.SenderId), SecAggCrypto.TagSize);
            aes.Decrypt(share.Nonce, share.Ciphertext, share.Tag, plaintext,
                SecAggCrypto.ShareAssociatedData(_config.SessionId, share.SenderId, ClientId));
        }
        catch (CryptographicException e)
        {
            throw new SecAggException(
                $"round 2: the share from {share.SenderId} failed authentication (tampered or not meant for {ClientId})", e);
        }
        var maskingKey = plaintext[..size];
        var selfMask = plaintext[size..];
        CheckElement(maskingKey, share.SenderId);
        CheckElement(selfMask, share.SenderId);
        return (maskingKey, selfMask);
    }

    private static void CheckElement(byte[] element, string sender)
    {
        if (new System.Numerics.BigInteger(element, isUnsigned: true, isBigEndian: true) >= ShamirSecretSharing.FieldOrder)
        {
            throw new SecAggException($"round 2: the share from {sender} is not a field element");
        }
    }

    private byte[] PeerEncryptionKey(string peer)
    {
        // Derived once per peer in round 1 and reused in round 2 (key import and ECDH dominate the client's CPU).
        if (!_shareKeys.TryGetValue(peer, out var key))
        {
            using var peerKey = SecAggCrypto.ImportPublic(_roster![peer].EncryptionPublicKey, peer);
            key = SecAggCrypto.ShareEncryptionKey(_encryptionKey!, peerKey, _config.SessionId);
            _shareKeys.Add(peer, key);
        }
        return key;
    }

    private void Expect(Step step, string method)
    {
        if (_step != step)
        {
            throw new InvalidOperationException($"{method} is not the next step of client {ClientId} (it is at {_step})");
        }
    }
}
