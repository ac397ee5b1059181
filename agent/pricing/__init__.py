"""What interface endpoints cost: the price table (prices.py), the arithmetic (cost.py) and the savings a change
would bring (rightsizing.py). Pure: no I/O, figures in Decimal dollars, rounded to the cent only when shown."""
