namespace EdgeProfile.Models.Serving;

/// <summary>Why a candidate model was refused.</summary>
public enum DeployFailure
{
    /// <summary>The version is already the serving one; versions must tell models apart.</summary>
    DuplicateVersion,

    /// <summary>The file or bytes could not be read or are not a usable ONNX model (corrupt, truncated, garbage).</summary>
    LoadError,

    /// <summary>The model's inputs or outputs do not fit: other feature width or names, or a holdout task it does
    /// not output as one probability.</summary>
    ShapeMismatch,

    /// <summary>An output was NaN or infinite on a canary or holdout row.</summary>
    NonFiniteOutput,

    /// <summary>ONNX Runtime failed while scoring a canary or holdout row.</summary>
    RuntimeError,

    /// <summary>A task's AUC on the holdout dropped more than allowed below the serving model's.</summary>
    AucDrop,
}
