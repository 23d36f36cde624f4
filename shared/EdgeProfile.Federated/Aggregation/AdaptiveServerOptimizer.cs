using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace EdgeProfile.Federated.Aggregation;

/// <summary>
/// Adaptive server optimisers of Reddi et al., "Adaptive Federated Optimization" (ICLR 2021), Algorithm 2, with the
/// aggregate delta Δ as pseudo-gradient: <c>m ← β1·m + (1−β1)·Δ</c>; <c>v</c> by the subclass rule;
/// <c>x ← x + η·m / (√v + τ)</c>. As in the paper there is no bias correction; <c>m</c> starts at 0 and <c>v</c> at τ²
/// (the paper's <c>v₋₁ ≥ τ²</c>). Moments are kept in float, the step is computed in double.
/// <see cref="SaveState"/> writes a small binary record (magic, kind, length, step count, m, v, little-endian).
/// </summary>
public abstract class AdaptiveServerOptimizer : IServerOptimizer
{
    private const uint Magic = 0x4F535045; // "EPSO"
    private const byte Version = 1;
    private float[]? _m;
    private float[]? _v;

    /// <summary>Checks and stores the hyperparameters.</summary>
    protected AdaptiveServerOptimizer(double learningRate, double beta1, double beta2, double tau)
    {
        if (!(learningRate > 0) || double.IsInfinity(learningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "must be positive");
        }
        if (!(beta1 >= 0 && beta1 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "must be in [0, 1)");
        }
        if (!(beta2 >= 0 && beta2 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "must be in [0, 1)");
        }
        if (!(tau > 0) || double.IsInfinity(tau))
        {
            throw new ArgumentOutOfRangeException(nameof(tau), tau, "must be positive");
        }
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Tau = tau;
    }

    /// <summary>Server learning rate η.</summary>
    public double LearningRate { get; }

    /// <summary>First-moment decay β1.</summary>
    public double Beta1 { get; }

    /// <summary>Second-moment decay β2.</summary>
    public double Beta2 { get; }

    /// <summary>Adaptivity τ (also the initial √v).</summary>
    public double Tau { get; }

    /// <summary>Steps applied so far (restored by <see cref="LoadState"/>).</summary>
    public long Steps { get; private set; }

    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <summary>First moment m (null before the first step).</summary>
    public ReadOnlySpan<float> FirstMoment => _m;

    /// <summary>Second moment v (null before the first step).</summary>
    public ReadOnlySpan<float> SecondMoment => _v;

    /// <summary>Kind byte written in the state so one optimiser does not load another's.</summary>
    private protected abstract byte Kind { get; }

    /// <summary>The second-moment update for one coordinate: the new v from the old <paramref name="v"/> and Δ².</summary>
    private protected abstract double NextSecondMoment(double v, double squaredDelta);

    /// <inheritdoc/>
    public float[] Apply(ReadOnlySpan<float> global, ReadOnlySpan<float> delta)
    {
        if (global.Length != delta.Length)
        {
            throw new ArgumentException($"delta has {delta.Length} parameters, the model {global.Length}", nameof(delta));
        }
        if (_m is null || _v is null)
        {
            _m = new float[global.Length];
            _v = new float[global.Length];
            Array.Fill(_v, (float)(Tau * Tau));
        }
        else if (_m.Length != global.Length)
        {
            throw new ArgumentException($"the optimiser holds moments for {_m.Length} parameters, the model has {global.Length}", nameof(global));
        }
        var m = _m;
        var v = _v;
        var result = new float[global.Length];
        for (var i = 0; i < result.Length; i++)
        {
            double d = delta[i];
            var mi = (Beta1 * m[i]) + ((1 - Beta1) * d);
            var vi = NextSecondMoment(v[i], d * d);
            m[i] = (float)mi;
            v[i] = (float)vi;
            result[i] = (float)(global[i] + (LearningRate * mi / (Math.Sqrt(vi) + Tau)));
        }
        Steps++;
        return result;
    }

    /// <inheritdoc/>
    public byte[] SaveState()
    {
        var length = _m?.Length ?? 0;
        var state = new byte[4 + 1 + 1 + 4 + 8 + (8 * length)];
        var s = state.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, Magic);
        s[4] = Version;
        s[5] = Kind;
        BinaryPrimitives.WriteInt32LittleEndian(s[6..], _m is null ? -1 : length);
        BinaryPrimitives.WriteInt64LittleEndian(s[10..], Steps);
        if (_m is not null && _v is not null)
        {
            WriteFloats(_m, s.Slice(18, 4 * length));
            WriteFloats(_v, s.Slice(18 + (4 * length), 4 * length));
        }
        return state;
    }

    /// <inheritdoc/>
    public void LoadState(ReadOnlySpan<byte> state)
    {
        if (state.Length < 18 || BinaryPrimitives.ReadUInt32LittleEndian(state) != Magic || state[4] != Version)
        {
            throw new ArgumentException("not a server optimiser state", nameof(state));
        }
        if (state[5] != Kind)
        {
            throw new ArgumentException($"the state belongs to another optimiser (kind {state[5]}), this is {Name}", nameof(state));
        }
        var length = BinaryPrimitives.ReadInt32LittleEndian(state[6..]);
        var steps = BinaryPrimitives.ReadInt64LittleEndian(state[10..]);
        var expected = 18L + (8L * Math.Max(length, 0));
        if (length < -1 || steps < 0 || state.Length != expected)
        {
            throw new ArgumentException($"server optimiser state is {state.Length} bytes, expected {expected}", nameof(state));
        }
        if (length < 0)
        {
            _m = null;
            _v = null;
        }
        else
        {
            _m = ReadFloats(state.Slice(18, 4 * length));
            _v = ReadFloats(state.Slice(18 + (4 * length), 4 * length));
        }
        Steps = steps;
    }

    private static void WriteFloats(ReadOnlySpan<float> values, Span<byte> destination)
    {
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(values).CopyTo(destination);
            return;
        }
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(destination[(4 * i)..], values[i]);
        }
    }

    private static float[] ReadFloats(ReadOnlySpan<byte> source)
    {
        var values = new float[source.Length / 4];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(4 * i)..]);
        }
        return values;
    }
}
