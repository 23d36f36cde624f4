using System.Security.Cryptography;

namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>
/// The server's side of a secure-aggregation round (see <see cref="SecAggClient"/> for the rounds). It routes
/// messages it cannot read, keeps only the running sum of masked inputs (never an individual input), and at the end
/// reconstructs from <c>t</c> clients' shares the self-mask seeds of the survivors and the masking keys of the
/// dropped, removes those masks and decodes the sum of the survivors' inputs.
/// </summary>
/// <remarks>
/// Each step is <c>Add…</c> (one call per client message, safe to call concurrently) then <c>Close…</c> (at the
/// step's deadline), which fails the round with <see cref="SecAggException"/> when fewer than <c>t</c> clients
/// answered. A message out of step, from a client outside the step's set, repeated or malformed is rejected with
/// <see cref="SecAggException"/> and leaves the round as it was.
/// Unmasking costs one PRG expansion per survivor plus one per (survivor, dropped) pair, all of the vector's length.
/// </remarks>
public sealed class SecAggServer
{
    private readonly SecAggConfig _config;
    private readonly int _parameterCount;
    private readonly HashSet<string> _expected;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, SecAggAdvertisement> _advertisements = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SecAggEncryptedShare[]> _shares = new(StringComparer.Ordinal);
    private readonly HashSet<string> _masked = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SecAggUnmaskResponse> _responses = new(StringComparer.Ordinal);
    private Dictionary<string, int> _indices = new(StringComparer.Ordinal);
    private string[] _u2 = [];
    private string[] _survivors = [];
    private string[] _dropped = [];
    private byte[]? _sum;

    // Masked inputs received but not yet added: four are added in one pass over the sum (a quarter of its memory traffic).
    private readonly List<byte[]> _pending = new(PendingInputs);
    private const int PendingInputs = 4;

    /// <summary>Creates the server of one round.</summary>
    /// <param name="config">The round's configuration (same as the clients').</param>
    /// <param name="expectedRoster">Ids of the clients invited to the round.</param>
    /// <param name="parameterCount">Length of the input vectors.</param>
    public SecAggServer(SecAggConfig config, IReadOnlyCollection<string> expectedRoster, int parameterCount)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(expectedRoster);
        ArgumentOutOfRangeException.ThrowIfNegative(parameterCount);
        _expected = new HashSet<string>(expectedRoster, StringComparer.Ordinal);
        if (_expected.Count != expectedRoster.Count || _expected.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("the roster must hold distinct, non-empty client ids", nameof(expectedRoster));
        }
        config.Validate(_expected.Count);
        _config = config;
        _parameterCount = parameterCount;
    }

    /// <summary>The step the round is at.</summary>
    public SecAggStage Stage { get; private set; } = SecAggStage.AdvertisingKeys;

    /// <summary>Why the round failed, once <see cref="Stage"/> is <see cref="SecAggStage.Failed"/>.</summary>
    public string? FailureReason { get; private set; }

    /// <summary>Round 0: records a client's public keys.</summary>
    public void AddAdvertisement(SecAggAdvertisement advertisement)
    {
        ArgumentNullException.ThrowIfNull(advertisement);
        lock (_gate)
        {
            Expect(SecAggStage.AdvertisingKeys);
            var id = advertisement.ClientId;
            if (!_expected.Contains(id) || _advertisements.ContainsKey(id))
            {
                throw new SecAggException($"round 0: unexpected or repeated advertisement from {id}");
            }
            SecAggCrypto.ImportPublic(advertisement.EncryptionPublicKey, id).Dispose();
            SecAggCrypto.ImportPublic(advertisement.MaskingPublicKey, id).Dispose();
            _advertisements.Add(id, advertisement);
        }
    }

    /// <summary>Round 0 deadline: the roster <c>U1</c> (ordinal order) to broadcast to its members.</summary>
    public IReadOnlyList<SecAggAdvertisement> CloseAdvertisements()
    {
        lock (_gate)
        {
            Expect(SecAggStage.AdvertisingKeys);
            RequireThreshold(_advertisements.Count, "round 0", "advertised keys");
            var ids = _advertisements.Keys.Order(StringComparer.Ordinal).ToArray();
            _indices = ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i + 1, StringComparer.Ordinal);
            Stage = SecAggStage.SharingKeys;
            return ids.Select(id => _advertisements[id]).ToArray();
        }
    }

    /// <summary>Round 1: records a client's encrypted shares, exactly one for each other member of <c>U1</c>.</summary>
    public void AddShares(string senderId, IReadOnlyList<SecAggEncryptedShare> shares)
    {
        ArgumentNullException.ThrowIfNull(senderId);
        ArgumentNullException.ThrowIfNull(shares);
        lock (_gate)
        {
            Expect(SecAggStage.SharingKeys);
            if (!_indices.ContainsKey(senderId) || _shares.ContainsKey(senderId))
            {
                throw new SecAggException($"round 1: unexpected or repeated shares from {senderId}");
            }
            var recipients = shares.Select(s => s.RecipientId).ToHashSet(StringComparer.Ordinal);
            if (shares.Any(s => s.SenderId != senderId) || recipients.Count != shares.Count
                || recipients.Contains(senderId) || recipients.Count != _indices.Count - 1
                || !recipients.All(_indices.ContainsKey))
            {
                throw new SecAggException($"round 1: {senderId} must send one share to each other client of the roster");
            }
            _shares.Add(senderId, shares.ToArray());
        }
    }

    /// <summary>
    /// Round 1 deadline: <c>U2</c> is who sent shares; returns, for each member of <c>U2</c>, the shares addressed to it
    /// by the other members.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<SecAggEncryptedShare>> CloseShares()
    {
        lock (_gate)
        {
            Expect(SecAggStage.SharingKeys);
            RequireThreshold(_shares.Count, "round 1", "shared keys");
            _u2 = _shares.Keys.Order(StringComparer.Ordinal).ToArray();
            var routed = _u2.ToDictionary(
                v => v,
                v => (IReadOnlyList<SecAggEncryptedShare>)_u2.Where(u => u != v)
                    .Select(u => _shares[u].First(s => s.RecipientId == v)).ToArray(),
                StringComparer.Ordinal);
            _sum = new byte[(long)_parameterCount * _config.ElementBytes];
            Stage = SecAggStage.MaskingInputs;
            return routed;
        }
    }

    /// <summary>Round 2: adds a member of <c>U2</c>'s masked input to the running sum. The input is kept only until it is
    /// added (four at a time, the rest when the round's inputs close), so the caller must not change its elements.</summary>
    public void AddMaskedInput(SecAggMaskedInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        lock (_gate)
        {
            Expect(SecAggStage.MaskingInputs);
            if (Array.BinarySearch(_u2, input.ClientId, StringComparer.Ordinal) < 0 || _masked.Contains(input.ClientId))
            {
                throw new SecAggException($"round 2: unexpected or repeated masked input from {input.ClientId}");
            }
            if (input.Elements.Length != (long)_parameterCount * _config.ElementBytes)
            {
                throw new SecAggException(
                    $"round 2: {input.ClientId} sent {input.Elements.Length} bytes, the round has {_parameterCount} values of {_config.ElementBytes} bytes ({_config.RingBits}-bit ring)");
            }
            _pending.Add(input.Elements);
            if (_pending.Count == PendingInputs)
            {
                AddPending();
            }
            _masked.Add(input.ClientId);
        }
    }

    /// <summary>
    /// Round 2 deadline: <c>U3</c> is who sent a masked input; returns the request to send to each member of
    /// <c>U3</c>. Masked inputs arriving later are rejected (their senders are treated as dropped).
    /// </summary>
    public SecAggUnmaskRequest CloseMaskedInputs()
    {
        lock (_gate)
        {
            Expect(SecAggStage.MaskingInputs);
            RequireThreshold(_masked.Count, "round 2", "sent masked inputs");
            if (_pending.Count > 0)
            {
                AddPending();
            }
            _survivors = _u2.Where(_masked.Contains).ToArray();
            _dropped = _u2.Where(v => !_masked.Contains(v)).ToArray();
            Stage = SecAggStage.Unmasking;
            return new SecAggUnmaskRequest([.. _survivors], [.. _dropped]);
        }
    }

    /// <summary>Round 3: records a survivor's shares; it must hold exactly the shares the request asked for.</summary>
    public void AddUnmaskResponse(SecAggUnmaskResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        lock (_gate)
        {
            Expect(SecAggStage.Unmasking);
            var id = response.ClientId;
            if (Array.BinarySearch(_survivors, id, StringComparer.Ordinal) < 0 || _responses.ContainsKey(id))
            {
                throw new SecAggException($"round 3: unexpected or repeated unmask response from {id}");
            }
            if (!Covers(response.SelfMaskShares, _survivors) || !Covers(response.MaskingKeyShares, _dropped))
            {
                throw new SecAggException($"round 3: the response of {id} does not hold exactly the requested shares");
            }
            _responses.Add(id, response);
        }
    }

    /// <summary>
    /// Round 3 deadline: reconstructs the secrets from the first <c>t</c> responders (ordinal order), removes the
    /// survivors' self masks and the pairwise masks between survivors and dropped clients, and decodes the sum.
    /// </summary>
    /// <exception cref="SecAggException">Fewer than <c>t</c> survivors answered, or the shares of a dropped client's
    /// key do not reconstruct the key it advertised.</exception>
    public SecAggResult ComputeSum()
    {
        lock (_gate)
        {
            Expect(SecAggStage.Unmasking);
            RequireThreshold(_responses.Count, "round 3", "sent unmask responses");
            var responders = _responses.Keys.Order(StringComparer.Ordinal).Take(_config.Threshold).ToArray();
            var lambdas = ShamirSecretSharing.LagrangeAtZero(responders.Select(r => _indices[r]).ToArray());
            var selfShares = responders.Select(r => _responses[r].SelfMaskShares.ToDictionary(x => x.OwnerId, x => x.Share, StringComparer.Ordinal)).ToArray();
            var keyShares = responders.Select(r => _responses[r].MaskingKeyShares.ToDictionary(x => x.OwnerId, x => x.Share, StringComparer.Ordinal)).ToArray();
            byte[] Reconstruct(string owner, bool maskingKey) => ShamirSecretSharing.Combine(
                lambdas, (maskingKey ? keyShares : selfShares).Select(shares => shares[owner]).ToArray());

            var streams = new MaskAccumulator.MaskStream[_survivors.Length + _dropped.Length * _survivors.Length];
            Parallel.For(
                0,
                _survivors.Length,
                new ParallelOptions { MaxDegreeOfParallelism = _config.MaxDegreeOfParallelism },
                i => streams[i] = new(SecAggCrypto.SelfMaskKey(Reconstruct(_survivors[i], maskingKey: false), _config.SessionId), Subtract: true));
            var droppedScalars = _dropped.Select(v => Reconstruct(v, maskingKey: true)).ToArray();
            string? inconsistent = null;
            Parallel.For(
                0,
                _dropped.Length,
                new ParallelOptions { MaxDegreeOfParallelism = _config.MaxDegreeOfParallelism },
                // Importing a public key validates the point (a scalar multiplication): once per worker, not per pair.
                () => new Dictionary<string, ECDiffieHellman>(StringComparer.Ordinal),
                (d, _, survivorKeys) =>
                {
                    var v = _dropped[d];
                    using var key = TryImportPrivate(droppedScalars[d]);
                    if (key is null || !SecAggCrypto.SamePublicKey(key, _advertisements[v].MaskingPublicKey))
                    {
                        inconsistent = v;
                        return survivorKeys;
                    }
                    for (var i = 0; i < _survivors.Length; i++)
                    {
                        var u = _survivors[i];
                        if (!survivorKeys.TryGetValue(u, out var survivorKey))
                        {
                            survivorKey = SecAggCrypto.ImportPublic(_advertisements[u].MaskingPublicKey, u);
                            survivorKeys.Add(u, survivorKey);
                        }
                        // u added PRG(s_uv) when v > u and subtracted it when v < u; undo that.
                        streams[_survivors.Length + d * _survivors.Length + i] = new(
                            SecAggCrypto.PairMaskKey(key, survivorKey, _config.SessionId),
                            Subtract: _indices[u] < _indices[v]);
                    }
                    return survivorKeys;
                },
                survivorKeys =>
                {
                    foreach (var survivorKey in survivorKeys.Values)
                    {
                        survivorKey.Dispose();
                    }
                });
            if (inconsistent is not null)
            {
                throw Fail($"round 3: the shares of {inconsistent}'s masking key do not reconstruct the key it advertised");
            }
            MaskAccumulator.Apply(_sum!, streams, _config.RingBits, _config.MaxDegreeOfParallelism);
            var sum = new FixedPoint(_config.Scale, _config.RingBits).DecodeSumBytes(_sum!.AsSpan());
            Stage = SecAggStage.Completed;
            return new SecAggResult(sum, [.. _survivors], [.. _dropped]);
        }
    }

    private void AddPending()
    {
        MaskAccumulator.AddInto(_sum!, _pending, _config.RingBits, _config.MaxDegreeOfParallelism);
        _pending.Clear();
    }

    private static ECDiffieHellman? TryImportPrivate(byte[] scalar)
    {
        try
        {
            return SecAggCrypto.ImportPrivate(scalar);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    private static bool Covers(SecAggRevealedShare[] shares, string[] owners) =>
        shares.Length == owners.Length
        && shares.All(s => s.Share.Length == ShamirSecretSharing.ElementSize)
        && shares.Select(s => s.OwnerId).ToHashSet(StringComparer.Ordinal).SetEquals(owners);

    private void RequireThreshold(int count, string step, string what)
    {
        if (count < _config.Threshold)
        {
            throw Fail($"{step}: only {count} of {_expected.Count} clients {what}, below the threshold {_config.Threshold}");
        }
    }

    private SecAggException Fail(string reason)
    {
        Stage = SecAggStage.Failed;
        FailureReason = reason;
        _sum = null;
        _pending.Clear();
        return new SecAggException(reason);
    }

    private void Expect(SecAggStage stage)
    {
        if (Stage == SecAggStage.Failed)
        {
            throw new SecAggException($"the round failed: {FailureReason}");
        }
        if (Stage != stage)
        {
            throw new SecAggException($"the round is at {Stage}, not {stage}");
        }
    }
}
