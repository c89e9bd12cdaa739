"""The computational graph of meta-training (after Andrychowicz et al. 2016, Fig. 2), drawn
with matplotlib: the optimizee's parameters θₜ, its loss f and gradient ∇ₜ, the optimizer m
with its hidden state hₜ, and the update θₜ₊₁ = θₜ + gₜ, unrolled over a few steps. The
gradient edges (θₜ → ∇ₜ → m) are dashed: meta-training does not back-propagate along them
(the optimizee's second derivatives are dropped)."""
from __future__ import annotations

__all__ = ["computational_graph"]

_BOX = dict(boxstyle="round,pad=0.35", fc="white", lw=1.2)


def _node(ax, x, y, text, color, shape="round,pad=0.35", size=11):
    return ax.text(x, y, text, ha="center", va="center", fontsize=size, zorder=3,
                   bbox={**_BOX, "boxstyle": shape, "ec": color})


def _arrow(ax, start, end, color="0.25", dashed=False, text=None, offset=(0.0, 0.0), rad=0.0):
    ax.annotate("", xy=end, xytext=start, zorder=2,
                arrowprops=dict(arrowstyle="-|>", color=color, lw=1.3, shrinkA=14, shrinkB=14,
                                linestyle=(0, (4, 3)) if dashed else "-",
                                connectionstyle=f"arc3,rad={rad}"))
    if text:
        ax.text((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1], text,
                fontsize=10, ha="center", va="center", color=color)


def computational_graph(steps: int = 3, *, width: float = 10.5):
    """The figure: ``steps`` unrolled optimizee steps. Returns the matplotlib Figure."""
    from .. import plots

    fig, ax = plots.new_figure(width=width, height=0.5 * width)
    dx = 3.2
    opt_c, fun_c, loss_c = "tab:blue", "tab:green", "tab:red"
    for t in range(steps):
        x = dx * t
        sub = "t" if t == 0 else f"t+{t}"
        nxt = f"t+{t + 1}"
        _node(ax, x, 2.2, f"θ$_{{{sub}}}$", "0.3", "circle,pad=0.3")
        _node(ax, x + 0.9, 3.5, "f", fun_c)
        _node(ax, x + 0.9, 1.1, "∇f", fun_c)
        _node(ax, x + 1.8, 0.0, "m", opt_c, size=13)
        _node(ax, x + 1.8, 2.2, "+", "0.3", "circle,pad=0.2")
        _arrow(ax, (x, 2.2), (x + 0.9, 3.5))
        _arrow(ax, (x + 0.9, 3.5), (x + 0.9, 4.6), loss_c, text=f"f(θ$_{{{sub}}}$)",
               offset=(0.55, 0.0))
        _arrow(ax, (x, 2.2), (x + 0.9, 1.1), fun_c, dashed=True)
        _arrow(ax, (x + 0.9, 1.1), (x + 1.8, 0.0), fun_c, dashed=True,
               text=f"∇$_{{{sub}}}$", offset=(-0.4, -0.1))
        _arrow(ax, (x, 2.2), (x + 1.8, 2.2))
        _arrow(ax, (x + 1.8, 0.0), (x + 1.8, 2.2), opt_c, text=f"g$_{{{sub}}}$",
               offset=(0.3, 0.0))
        _arrow(ax, (x + 1.8, 2.2), (x + dx, 2.2))
        _arrow(ax, (x + 1.8 - dx if t else x + 1.8 - 1.6, 0.0), (x + 1.8, 0.0), opt_c,
               text=f"h$_{{{sub}}}$", offset=(0.0, -0.32))
    xe = dx * steps
    _node(ax, xe, 2.2, f"θ$_{{t+{steps}}}$", "0.3", "circle,pad=0.3")
    _arrow(ax, (xe - dx + 1.8, 0.0), (xe + 0.6, 0.0), opt_c, text=f"h$_{{t+{steps}}}$",
           offset=(0.0, -0.32))
    ax.plot([0.6, xe - dx + 1.2], [4.75, 4.75], color=loss_c, lw=1.3)
    ax.text((xe - dx + 1.8) / 2, 5.2, "meta-loss  L(φ) = Σ$_t$ f(θ$_t$)   (back-propagated to "
            "φ along the solid edges)", ha="center", va="center", fontsize=11, color=loss_c)
    ax.text(-0.9, 2.2, "optimizee", rotation=90, ha="center", va="center", fontsize=10,
            color=fun_c)
    ax.text(-0.9, 0.0, "optimizer", rotation=90, ha="center", va="center", fontsize=10,
            color=opt_c)
    ax.text(xe - 0.4, -0.95, "dashed: ∇ₜ enters m as an input; no gradient flows back along "
            "it (∂∇ₜ/∂θₜ = ∇²f dropped)", ha="right", va="center", fontsize=9.5, color=fun_c)
    ax.set(xlim=(-1.3, xe + 1.0), ylim=(-1.3, 5.6))
    ax.axis("off")
    ax.set_title("")
    return fig
